"""Cached course pages and gradebooks are never stale: the revisions every change bumps, whoever makes it,
and what the pages show after each kind of change, after a name change and when an activity opens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.core import pagecache
from lms.core.db import utcnow
from lms.courses import assignments, content, gradebook, runs
from lms.courses.models import Activity, CourseRun, Enrolment, GradeItem, Section
from lms.extensions import db
from tests.courses.test_assignments import assignment
from tests.courses.test_completion import run  # noqa: F401 - the fixture
from tests.helpers import text_of


def revs(run_id: int, user_id: int | None = None) -> tuple:
    """(content, learners[, the learner's own]) revisions as committed."""
    row = db.session.execute(select(CourseRun.content_rev, CourseRun.learners_rev).where(CourseRun.id == run_id)).one()
    if user_id is None:
        return tuple(row)
    own = db.session.scalar(select(Enrolment.rev).where(Enrolment.run_id == run_id, Enrolment.user_id == user_id))
    return (*row, own)


def first_section(run_id: int) -> Section:
    return db.session.scalar(select(Section).where(Section.run_id == run_id).order_by(Section.position))


def grew(before: tuple, after: tuple) -> tuple[bool, ...]:
    return tuple(b > a for a, b in zip(before, after, strict=True))


def test_each_kind_of_change_bumps_its_revision(world, run):  # noqa: F811
    a, b = world.student_a.id, world.student_b.id
    before, before_b = revs(run.id, a), revs(run.id, b)

    content.save_activity(first_section(run.id), {"kind": "page", "title": "Новое", "completion": "viewed"},
                          by=world.teacher_a)
    db.session.commit()
    after = revs(run.id, a)
    assert grew(before, after) == (True, False, False)  # content only: no learner's page is thrown away

    activity = db.session.scalar(select(Activity).where(Activity.run_id == run.id, Activity.title == "Новое"))
    content.record_view(activity, world.student_a)
    db.session.commit()
    before, after = after, revs(run.id, a)
    assert grew(before, after) == (False, True, True)
    assert revs(run.id, b)[2] == before_b[2]  # another learner's state is untouched

    content.record_view(activity, world.student_a)  # a second view changes nothing, bumps nothing
    db.session.commit()
    assert revs(run.id, a) == after

    runs.update_run(run, by=world.admin_a, name="Поток 2", starts_on=run.starts_on, ends_on=run.ends_on)
    db.session.commit()
    before, after = after, revs(run.id, a)
    assert grew(before, after) == (True, False, False)

    world.student_b.surname = "Переименованная"  # names are shown in the gradebook
    db.session.commit()
    assert grew(before_b[1:], revs(run.id, b)[1:]) == (True, True)


def test_the_run_lock_and_revisions_keep_updated_at(world, run):  # noqa: F811
    before = db.session.scalar(select(CourseRun.updated_at).where(CourseRun.id == run.id))
    c0 = revs(run.id)[0]
    db.session.execute(update(CourseRun).where(CourseRun.id == run.id)
                       .values(lock_version=CourseRun.lock_version + 1, updated_at=CourseRun.updated_at))
    content.save_activity(first_section(run.id), {"kind": "page", "title": "Ещё", "completion": "viewed"},
                          by=world.teacher_a)
    db.session.commit()
    assert revs(run.id)[0] == c0 + 1
    assert db.session.scalar(select(CourseRun.updated_at).where(CourseRun.id == run.id)) == before


def test_a_rolled_back_change_leaves_the_revisions(world, run):  # noqa: F811
    before = revs(run.id, world.student_a.id)
    content.save_activity(first_section(run.id), {"kind": "page", "title": "Черновик", "completion": "viewed"},
                          by=world.teacher_a)
    db.session.flush()
    assert revs(run.id)[0] == before[0] + 1
    db.session.rollback()
    assert revs(run.id, world.student_a.id) == before


def test_the_learners_course_page_follows_every_change(client, login_as, world, run):  # noqa: F811
    login_as(client, world.student_a)
    url = f"/runs/{run.id}/course"
    client.get(url)  # the session gets its CSRF token (part of the key) with the first page
    first = text_of(client.get(url))
    assert "Лекция" in first and "0 из 1" in first
    assert text_of(client.get(url)) == first  # the same page again, from the cache (the same signed token)

    lecture = db.session.scalar(select(Activity).where(Activity.run_id == run.id, Activity.title == "Лекция"))
    content.record_view(lecture, world.student_a)  # as another process would: straight to the database
    db.session.commit()
    assert "1 из 1" in text_of(client.get(url))

    content.save_activity(first_section(run.id), {"kind": "page", "title": "Второй материал",
                                                  "completion": "viewed"}, by=world.teacher_a)
    db.session.commit()
    page = text_of(client.get(url))
    assert "Второй материал" in page and "1 из 2" in page

    other = run.groups[0].id if run.groups else None
    if other:  # moved into a group: activities for that group appear
        content.save_activity(first_section(run.id), {"kind": "page", "title": "Только для группы",
                                                      "completion": "none", "group_id": other}, by=world.teacher_a)
        db.session.commit()
        assert "Для другой группы" in text_of(client.get(url))
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id,
                                                              Enrolment.user_id == world.student_a.id))
        enrolment.group_id = other
        db.session.commit()
        assert "Для другой группы" not in text_of(client.get(url))


def test_a_withdrawn_learner_no_longer_gets_the_cached_page(client, login_as, world, run):  # noqa: F811
    login_as(client, world.student_a)
    url = f"/runs/{run.id}/course"
    assert client.get(url).status_code == 200
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id,
                                                          Enrolment.user_id == world.student_a.id))
    runs.withdraw(enrolment, by=world.admin_a)
    db.session.commit()
    assert client.get(url).status_code == 403


def test_an_activity_opens_on_time_on_a_cached_page(client, login_as, world, run, monkeypatch):  # noqa: F811
    opens = utcnow() + timedelta(hours=2)
    content.save_activity(first_section(run.id), {"kind": "page", "title": "Скоро", "completion": "viewed",
                                                  "available_from": opens}, by=world.teacher_a)
    db.session.commit()
    login_as(client, world.student_a)
    url = f"/runs/{run.id}/course"
    assert "Откроется" in text_of(client.get(url))
    assert "Откроется" in text_of(client.get(url))  # cached, still before the moment
    later = opens + timedelta(minutes=1)
    monkeypatch.setattr(pagecache, "utcnow", lambda: later)
    monkeypatch.setattr("lms.courses.routes_content.utcnow", lambda: later)
    assert "Откроется" not in text_of(client.get(url))


def test_messages_are_shown_on_a_cached_page(client, login_as, world, run):  # noqa: F811
    login_as(client, world.teacher_a)
    url = f"/runs/{run.id}/course"
    client.get(url)
    response = client.post(f"/runs/{run.id}/sections", data={"title": "Новый раздел курса", "summary": ""},
                           follow_redirects=True)
    assert "Раздел добавлен" in text_of(response) and "Новый раздел курса" in text_of(response)
    again = text_of(client.get(url))
    assert "Раздел добавлен" not in again and "Новый раздел курса" in again  # the message is shown once
    # Nothing changed, so the page is in the cache; the error message is shown all the same.
    refused = client.post(f"/runs/{run.id}/sections", data={"title": "", "summary": ""}, follow_redirects=True)
    assert "Название" in text_of(refused) and text_of(refused) != again


def test_the_gradebook_follows_grades_names_and_items(client, login_as, world, run):  # noqa: F811
    work = assignment(world, run)
    submission = assignments.submit(work, world.student_a, text="Ответ")
    db.session.commit()
    login_as(client, world.teacher_a)
    url = f"/runs/{run.id}/gradebook"
    assert "Практическая работа" in text_of(client.get(url))

    assignments.grade(submission, points="7", feedback="", by=world.teacher_a)
    db.session.commit()
    assert "7" in text_of(client.get(url)).split(world.student_a.surname, 1)[1][:200]

    item = db.session.scalar(select(GradeItem).where(GradeItem.activity_id == work.id))
    gradebook.override(item, world.student_a, points="9", reason="Пересдача", by=world.teacher_a)
    db.session.commit()
    assert "Пересдача" in client.get(url).get_data(as_text=True)

    world.student_b.surname = "Новофамильная"
    db.session.commit()
    assert "Новофамильная" in text_of(client.get(url))


def test_the_layout_around_a_cached_page_is_fresh(client, login_as, world, run):  # noqa: F811
    login_as(client, world.student_a)
    url = f"/runs/{run.id}/course"
    client.get(url)
    world.student_a.name = "Переименованный"
    db.session.commit()
    assert "Переименованный"[0] in text_of(client.get(url))  # the short name in the header
    client.post("/accessibility", data={"toggle": "1", "next": url})
    assert 'class="a11y' in client.get(url).get_data(as_text=True)


def test_another_persons_cached_page_is_never_served(client, login_as, app, world, run):  # noqa: F811
    login_as(client, world.student_a)
    url = f"/runs/{run.id}/course"
    client.get(url)
    other = app.test_client()
    login_as(other, world.student_c)  # not enrolled
    assert other.get(url).status_code == 403
    login_as(other, world.student_b)
    assert world.student_b.short_name in text_of(other.get(url))


def test_the_cache_keeps_to_its_budget():
    cache = pagecache.VersionedCache(size=10, max_chars=100)
    for n in range(5):
        cache.put(("k", n), "x" * 40)
    assert len(cache) == 2  # 80 characters: a third entry would pass the budget
    assert cache.get(("k", 4)) and cache.get(("k", 0)) is None
    cache.put(("k", 4), "y" * 10)  # replacing an entry counts its new size only
    cache.put(("k", 5), "z" * 50)
    assert len(cache) == 3


def test_a_value_is_cached_until_its_moment(monkeypatch):
    cache = pagecache.VersionedCache()
    calls = []
    now = utcnow()

    def render():
        calls.append(1)
        return f"v{len(calls)}", now + timedelta(minutes=5)

    monkeypatch.setattr(pagecache, "utcnow", lambda: now)
    assert pagecache.cached_until(cache, ("k",), render) == "v1"
    assert pagecache.cached_until(cache, ("k",), render) == "v1"
    monkeypatch.setattr(pagecache, "utcnow", lambda: now + timedelta(minutes=5))
    assert pagecache.cached_until(cache, ("k",), render) == "v2"
    assert pagecache.cached_until(cache, None, render) == "v3"  # no key: never cached


@pytest.mark.parametrize("path", ["/runs/{run}/course", "/runs/{run}/gradebook"])
def test_unknown_runs_answer_404(client, login_as, world, path):
    login_as(client, world.teacher_a)
    assert client.get(path.format(run=987654)).status_code == 404


def test_the_gradebook_and_the_progress_page_show_one_group(client, login_as, world, run):  # noqa: F811
    group = run.groups[0]
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id,
                                                          Enrolment.user_id == world.student_a.id))
    enrolment.group_id = group.id
    db.session.commit()
    login_as(client, world.teacher_a)
    for path in (f"/runs/{run.id}/gradebook", f"/runs/{run.id}/group"):
        everyone = text_of(client.get(path))
        assert world.student_a.surname in everyone and world.student_b.surname in everyone
        one = text_of(client.get(f"{path}?group={group.id}"))
        assert world.student_a.surname in one and world.student_b.surname not in one
        assert world.student_b.surname in text_of(client.get(f"{path}?group=987654"))  # not a group of the run
    csv = client.get(f"/runs/{run.id}/gradebook.csv?group={group.id}").get_data(as_text=True)
    assert world.student_a.surname in csv and world.student_b.surname not in csv
