"""The OpenAPI 3 document: served without a token, valid, complete, and declares bearer security."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def _spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_document_is_valid_openapi_3(client, world):
    spec = _spec(client)
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_document_lists_every_endpoint_with_its_methods(app, client, world):
    spec = _spec(client)
    expected = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        expected |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops if method != "parameters"}
    assert documented == expected
    assert {p for p, _ in expected} == {
        "/api/v1/me", "/api/v1/municipalities", "/api/v1/organizations", "/api/v1/organizations/{org_id}",
        "/api/v1/people", "/api/v1/people/{user_id}", "/api/v1/people/{user_id}/deactivate",
        "/api/v1/memberships", "/api/v1/memberships/{membership_id}",
        "/api/v1/programmes", "/api/v1/programmes/{programme_id}", "/api/v1/runs", "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/enrolments", "/api/v1/runs/{run_id}/requests", "/api/v1/runs/{run_id}/completion",
        "/api/v1/runs/{run_id}/grades", "/api/v1/certificates", "/api/v1/certificates/{certificate_id}",
        "/api/v1/runs/{run_id}/submissions", "/api/v1/runs/{run_id}/submissions/{submission_id}/grade",
        "/api/v1/programmes/{programme_id}/curriculum", "/api/v1/programmes/{programme_id}/submit",
        "/api/v1/programmes/{programme_id}/review", "/api/v1/programmes/{programme_id}/publish",
        "/api/v1/runs/{run_id}/certificates", "/api/v1/certificates/{certificate_id}/revoke",
        "/api/v1/runs/{run_id}/attestation",
        "/api/v1/banks", "/api/v1/banks/{bank_id}", "/api/v1/banks/{bank_id}/questions",
        "/api/v1/banks/{bank_id}/import", "/api/v1/banks/{bank_id}/export", "/api/v1/questions/{question_id}",
        "/api/v1/questions/{question_id}/versions", "/api/v1/quizzes/{activity_id}",
        "/api/v1/quizzes/{activity_id}/attempts", "/api/v1/quizzes/{activity_id}/grades",
        "/api/v1/attempts/{attempt_id}", "/api/v1/attempts/{attempt_id}/answers", "/api/v1/attempts/{attempt_id}/page",
        "/api/v1/attempts/{attempt_id}/check", "/api/v1/attempts/{attempt_id}/submit",
        "/api/v1/attempts/{attempt_id}/review", "/api/v1/attempts/{attempt_id}/files",
        "/api/v1/attempts/{attempt_id}/files/{file_id}",
    }


def test_bearer_security_is_declared_and_the_default(client, world):
    spec = _spec(client)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["type"] == "http"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]


def test_every_operation_is_described_and_documents_401(client, world):
    spec = _spec(client)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("summary"), (path, method)
            assert "401" in op["responses"], (path, method)


def test_lists_document_the_page_envelope_and_errors_their_shape(client, world):
    spec = _spec(client)
    schemas = spec["components"]["schemas"]
    for name in ("MunicipalityPage", "OrganizationPage", "PersonPage", "MembershipPage"):
        assert set(schemas[name]["properties"]) == {"items", "page", "per_page", "total", "pages"}
    params = {p["name"] for p in spec["paths"]["/api/v1/people"]["get"]["parameters"]}
    assert {"page", "per_page", "organization", "role", "grade", "q", "active"} <= params
    error = schemas["ErrorDetail"]["properties"]
    assert set(error) == {"code", "title", "message", "field", "fields"}
    created = schemas["PersonCreated"]["properties"]
    assert "initial_password" in created and "password" not in created
