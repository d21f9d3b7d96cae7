"""Add a city-sized network on top of the demo data: ``python -m bench.seed`` (env selects the database).

BRIEF.md's city: ~12 schools, ~6,500 pupils, ~850 teachers. The schools join the demo municipality,
so the demo coordinator manages them and their dashboard aggregates over all of them. A smaller
neighbouring municipality is added too, so the coordinator's audit-visibility filter has rows to
exclude. Organizations go through the service (``create_organization``); people, memberships and
audit events are bulk-inserted rows sharing one precomputed password hash, which keeps seeding to
seconds. Prints one JSON line: what was added and the coordinator's name (the dashboard marker).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import timedelta

from sqlalchemy import insert, select, text

LETTERS = "АБВГ"
ACTIONS_WITH_ORG = ["role_granted", "membership_changed", "user_updated", "password_set", "consent_recorded"]


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schools", type=int, default=12)
    p.add_argument("--pupils", type=int, default=6500)
    p.add_argument("--teachers", type=int, default=850)
    p.add_argument("--audit", type=int, default=5000, help="audit events in the city")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def _person(rnd: random.Random, username: str, pw_hash: str, now) -> dict:
    from lms.demo import _NAMES_F, _NAMES_M, _PATRONYMICS, _SURNAMES_M

    female = rnd.random() < 0.5
    return {
        "username": username,
        "email": f"{username}@bench.example.org",
        "password_hash": pw_hash,
        "must_change_password": False,
        "surname": rnd.choice(_SURNAMES_M) + ("а" if female else ""),
        "name": rnd.choice(_NAMES_F if female else _NAMES_M),
        "patronymic": rnd.choice(_PATRONYMICS)[1 if female else 0],
        "sex": "f" if female else "m",
        "phone": "",
        "locale": "ru",
        "is_active": rnd.random() >= 0.02,  # a few left the network
        "is_admin": False,
        "prefs": {},
        "created_at": now,
        "updated_at": now,
    }


def _add_people(rnd, orgs, prefix: str, pupils: int, teachers: int, pw_hash: str, now) -> list[int]:
    """Pupils spread over grades 1–11 and class letters, teachers (some methodologists) and one
    organization admin per school. Returns the new users' ids."""
    from lms.accounts.models import User
    from lms.extensions import db
    from lms.orgs.models import Membership, Role

    plan = []  # (username, org, role, grade, letter)
    for i in range(pupils):
        org = orgs[i % len(orgs)]
        grade = 1 + (i // len(orgs)) % 11
        plan.append((f"{prefix}_p{i:05d}", org, Role.STUDENT, grade, LETTERS[(i // (len(orgs) * 11)) % 2]))
    for i in range(teachers):
        role = Role.METHODOLOGIST if i % 40 == 0 else Role.TEACHER
        plan.append((f"{prefix}_t{i:04d}", orgs[i % len(orgs)], role, None, None))
    for i, org in enumerate(orgs):
        plan.append((f"{prefix}_a{i:02d}", org, Role.ORG_ADMIN, None, None))
    # Core executemany: one batched statement per table instead of ORM unit-of-work flushes.
    db.session.execute(insert(User.__table__), [_person(rnd, username, pw_hash, now) for username, *_ in plan])
    ids = dict(db.session.execute(select(User.username, User.id).where(User.username.like(f"{prefix}\\_%",
                                                                                          escape="\\"))).all())
    db.session.execute(insert(Membership.__table__), [
        {"user_id": ids[username], "organization_id": org.id, "role": role, "grade": grade,
         "class_letter": letter, "created_at": now, "updated_at": now}
        for username, org, role, grade, letter in plan])
    return [ids[username] for username, *_ in plan]


def _add_audit(rnd, n: int, orgs, people: list[int], actors: list[int], now) -> None:
    """A mixture like the real log: logins (no organization), person changes, role changes."""
    from lms.core.audit import AuditEvent
    from lms.extensions import db

    rows = []
    for _ in range(n):
        at = now - timedelta(seconds=rnd.randrange(60 * 24 * 3600))
        kind = rnd.random()
        if kind < 0.5:
            who = rnd.choice(people)
            row = {"action": "login", "actor_id": who, "organization_id": None, "object_type": None,
                   "object_id": None}
        elif kind < 0.7:
            row = {"action": "user_created", "actor_id": rnd.choice(actors), "organization_id": None,
                   "object_type": "User", "object_id": rnd.choice(people)}
        else:
            row = {"action": rnd.choice(ACTIONS_WITH_ORG), "actor_id": rnd.choice(actors),
                   "organization_id": rnd.choice(orgs).id, "object_type": "User",
                   "object_id": rnd.choice(people)}
        rows.append(row | {"at": at, "ip": "10.0.0.1", "details": {}})
    rows.sort(key=lambda r: r["at"])  # ids follow time, as in a real log
    db.session.execute(insert(AuditEvent.__table__), rows)
    _link_audit_events()


def _link_audit_events() -> None:
    """What lms.core.audit.record does per event, for the bulk rows: link each event to the
    organizations it concerns (its own, the person's, or the actor's for a login)."""
    from lms.core.audit import ROUTINE_ACTIONS
    from lms.extensions import db

    routine = ", ".join(f"'{a}'" for a in sorted(ROUTINE_ACTIONS))
    unlinked = "NOT EXISTS (SELECT 1 FROM audit_event_orgs x WHERE x.event_id = e.id)"
    db.session.execute(text(f"""
        INSERT INTO audit_event_orgs (event_id, organization_id, routine)
        SELECT event_id, organization_id, routine FROM (
            SELECT e.id AS event_id, e.organization_id AS organization_id, e.action IN ({routine}) AS routine
            FROM audit_events e WHERE e.organization_id IS NOT NULL AND {unlinked}
            UNION
            SELECT e.id, m.organization_id, e.action IN ({routine})
            FROM audit_events e JOIN memberships m ON m.user_id = e.object_id
            WHERE e.object_type = 'User' AND {unlinked}
            UNION
            SELECT e.id, m.organization_id, e.action IN ({routine})
            FROM audit_events e JOIN memberships m ON m.user_id = e.actor_id
            WHERE e.object_type IS NULL AND {unlinked}
        ) AS links"""))  # noqa: S608 - constants only, no user input


def seed(args: argparse.Namespace) -> dict:
    from lms.accounts.models import ImportJob, User
    from lms.accounts.passwords import hash_password
    from lms.core.db import utcnow
    from lms.demo import MUNICIPALITY
    from lms.extensions import db
    from lms.orgs import services as org_services
    from lms.orgs.models import Municipality

    rnd = random.Random(args.seed)
    now = utcnow()
    pw_hash = hash_password("bench-not-for-login-2026")
    municipality = db.session.scalar(select(Municipality).where(Municipality.name == MUNICIPALITY))
    coordinator = db.session.scalar(select(User).where(User.username == "coordinator"))
    if municipality is None or coordinator is None:
        raise SystemExit("demo data missing: run `flask --app wsgi demo load` first")

    city = [org_services.create_organization(
        municipality, by=coordinator, code=f"bench{n:02d}", kind="school",
        name=f"МБОУ «Средняя общеобразовательная школа № {n + 10}»", short_name=f"Школа № {n + 10}",
        address="141980, Московская область, г. Дубна", time_zone="Europe/Moscow")
        for n in range(1, args.schools + 1)]
    city_people = _add_people(rnd, city, "city", args.pupils, args.teachers, pw_hash, now)

    # A neighbour the coordinator must not see: about a tenth of the city.
    other = org_services.create_municipality(name="Городской округ Кимры (bench)", region="Тверская область",
                                             time_zone="Europe/Moscow", by=None)
    other_orgs = [org_services.create_organization(
        other, by=None, code=f"benchk{n}", kind="school", name=f"МБОУ «СОШ № {n}» г. Кимры",
        short_name=f"Кимры, школа № {n}", time_zone="Europe/Moscow") for n in (1, 2)]
    other_people = _add_people(rnd, other_orgs, "kimry", args.pupils // 10, args.teachers // 10, pw_hash, now)

    staff = city_people[args.pupils:] + [coordinator.id]
    _add_audit(rnd, args.audit, city, city_people, staff, now)
    _add_audit(rnd, args.audit // 4, other_orgs, other_people, other_people[-5:], now)
    for n in range(3):
        db.session.add(ImportJob(organization_id=city[n].id, created_by_id=coordinator.id,
                                 filename=f"pupils-{n + 1}.xlsx", storage_key=f"imports/bench-{n}",
                                 dry_run=n == 0, status="done", total=500, processed=500,
                                 created_at=now - timedelta(days=n)))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does shortly after a bulk load in production; without statistics the
        # planner would be judged on a freshly loaded, never-analysed database.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return {
        "coordinator_name": coordinator.name,
        "organizations": len(city) + len(other_orgs),
        "people": len(city_people) + len(other_people),
        "audit_events": args.audit + args.audit // 4,
    }


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    from lms import create_app

    app = create_app()
    with app.app_context():
        result = seed(args)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
