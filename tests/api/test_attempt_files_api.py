"""Files attached to essays over the API: listed with the attempt's questions, attached and removed by the
same rules as the page, downloaded by their owner and the run's teachers only."""

from __future__ import annotations

import io

from lms.assessment.models import QuizAttempt
from lms.extensions import db
from tests.assessment.test_attempt_files import essay_of, setup  # noqa: F401 - the fixture, shared


def test_the_api_attaches_lists_and_removes_files(client, world, setup, auth):  # noqa: F811 - the shared fixture
    from lms.assessment import attempts as engine

    headers = auth(world.student_a)
    r = client.post(f"/api/v1/quizzes/{setup.activity.id}/attempts", headers=headers)
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    essay = next(q for q in body["questions"] if q["view"]["qtype"] == "essay")
    assert essay["files"] == [] and essay["view"]["attachments"] == 2
    url = f"/api/v1/attempts/{body['id']}/files"
    r = client.post(url, headers=headers, content_type="multipart/form-data",
                    data={"slot": str(essay["slot"]), "file": [(io.BytesIO(b"1"), "a.pdf"), (io.BytesIO(b"2"), "b.pdf")]})
    assert r.status_code == 201 and [f["name"] for f in r.get_json()] == ["a.pdf", "b.pdf"]
    r = client.post(url, headers=headers, content_type="multipart/form-data",
                    data={"slot": str(essay["slot"]), "file": (io.BytesIO(b"3"), "c.pdf")})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "file"
    assert client.post(url, headers=headers, content_type="multipart/form-data", data={}).status_code == 422
    detail = client.get(f"/api/v1/attempts/{body['id']}", headers=headers).get_json()
    files = next(q for q in detail["questions"] if q["slot"] == essay["slot"])["files"]
    assert [f["name"] for f in files] == ["a.pdf", "b.pdf"]
    assert client.get(files[0]["url"], headers=headers).status_code == 302
    other = auth(world.student_b)
    assert client.get(files[0]["url"], headers=other).status_code == 404
    assert client.delete(files[0]["url"], headers=other).status_code == 404
    assert client.delete(files[0]["url"], headers=headers).status_code == 204
    client.post(f"/api/v1/attempts/{body['id']}/submit", headers=headers)
    assert client.delete(files[1]["url"], headers=headers).status_code == 409
    attempt = db.session.get(QuizAttempt, body["id"])
    assert essay_of(attempt).state == engine.WAITING
