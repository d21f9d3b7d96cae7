def test_login_and_dashboard(client, world, login_as):
    login_as(client, world.coordinator)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Координаторова" in page or "Ольга" in page
