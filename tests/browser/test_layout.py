"""Reflow: 1280×800 at 200 % zoom leaves 640×400 CSS pixels, a phone leaves 320; the pages must not scroll
sideways (wide tables scroll inside themselves), also with the largest type of the version for visually
impaired users."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

#: 1280×800 at 200 % zoom lays the page out in 640×400 CSS pixels (a device scale factor of 2 would only
#: rasterise it sharper, at four times the cost); a phone in 320 CSS px (WCAG 1.4.10).
ZOOM_200 = {"width": 640, "height": 400}
PHONE = {"width": 320, "height": 640}

PAGES = [
    ("coordinator", "/"),
    ("orgadmin", "/"),
    ("orgadmin", "/people"),
    ("orgadmin", "/people/<student>"),
    ("orgadmin", "/audit"),
    ("student", "/profile"),
    # Pages other parts of the application are still adding: checked once they render.
    ("admin", "/orgs"),
    ("orgadmin", "/orgs/<school1>"),
    ("admin", "/municipalities"),
    ("orgadmin", "/people/import"),
]
NEWER = {"/orgs", "/orgs/<school1>", "/municipalities", "/people/import"}


SCREENS = {"zoom200": ZOOM_200, "phone": PHONE}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize(("user", "path"), PAGES, ids=[f"{u} {p}" for u, p in PAGES])
def test_no_horizontal_scrolling(ui, live_server, user, path, screen):
    tab = ui.tab(user)
    tab.page.set_viewport_size(SCREENS[screen])
    url = path.replace("<student>", str(live_server.ids["user:student"]))
    response = tab.goto(url.replace("<school1>", str(live_server.ids["org:school1"])))
    if path in NEWER and (response.status != 200 or not tab.page.locator("main#content").count()):
        pytest.skip(f"{path} is not rendered yet (HTTP {response.status})")
    assert response.status == 200, f"{path}: HTTP {response.status}"
    overflow = tab.horizontal_overflow()
    assert not overflow, f"{path} scrolls sideways at {screen}:\n" + "\n".join(overflow)


def test_login_page_reflows(ui):
    tab = ui.visitor()
    tab.page.set_viewport_size(PHONE)
    tab.goto("/login")
    assert not tab.horizontal_overflow()
    width = tab.page.evaluate("document.querySelector('#username').getBoundingClientRect().width")
    assert width > 200, f"the login field should use the width of a phone, got {width}px"


def test_largest_type_of_the_version_for_visually_impaired_reflows(ui):
    tab = ui.tab("cro_admin")  # this user's display settings are changed by this test only
    page = tab.page
    tab.goto("/accessibility")
    for name, value in (("on", "1"), ("size", "xlarge"), ("scheme", "wb"), ("spacing", "wide")):
        page.check(f"input[name={name}][value='{value}']")
    with page.expect_navigation():
        page.click(".a11y-form .btn--primary")
    # 200 % zoom, the type size alone at 100 %, and a phone.
    for width, height in ((640, 400), (1280, 800), (320, 640)):
        page.set_viewport_size({"width": width, "height": height})
        for path in ("/", "/people", "/accessibility"):
            tab.goto(path)
            assert "a11y-size-xlarge" in tab.body_classes()
            size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main h1')).fontSize)")
            assert size >= 48, f"{path}: the heading at the very large size is only {size}px"
            overflow = tab.horizontal_overflow()
            assert not overflow, f"{path} at {width}px scrolls sideways:\n" + "\n".join(overflow)


def test_wide_table_scrolls_inside_itself(ui):
    tab = ui.tab("admin")
    tab.page.set_viewport_size(PHONE)
    tab.goto("/")
    table = tab.page.locator("main table").first
    assert table.count(), "the administrator's dashboard should show the table of managed organizations"
    box = table.evaluate("t => ({sw: t.scrollWidth, cw: t.clientWidth, ov: getComputedStyle(t).overflowX})")
    assert box["ov"] in ("auto", "scroll"), box
    assert box["cw"] <= 320, box
    assert not tab.horizontal_overflow()
