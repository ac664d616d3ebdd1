"""The OpenAPI document: public, valid OpenAPI 3, and describing every API route."""

from __future__ import annotations

import re

from frontdesk.auth import access_rule


def _check_structure(spec: dict) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["responses"], f"{method} {path} documents no response"
            for name in re.findall(r"{(\w+)}", path):
                declared = operations.get("parameters", []) + operation.get("parameters", [])
                assert any(p["name"] == name for p in declared), f"{path}: {name}"


def test_the_document_is_public_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = response.get_json()
    try:
        from openapi_spec_validator import validate
    except ImportError:  # the dev extra installs it; without it, check the structure by hand
        validate = _check_structure
    validate(spec)
    _check_structure(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    default_error = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in default_error["content"]


def test_every_core_api_route_is_documented(app, client):
    from frontdesk.api import BLUEPRINTS

    core = {blp.name for blp in BLUEPRINTS}
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "parameters"
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in core:
            continue  # plugins document their own routes
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert not missing, "undocumented API routes: " + ", ".join(sorted(missing))


def test_only_the_document_and_sign_in_are_public(app):
    from frontdesk.api import BLUEPRINTS

    core = {blp.name for blp in BLUEPRINTS} | {"api-docs"}
    public = sorted(
        f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in core
        and access_rule(app.view_functions[rule.endpoint]) == "public"
    )
    assert public == [
        "['DELETE'] /api/v1/session",
        "['GET'] /api/v1/openapi.json",
        "['POST'] /api/v1/session",
    ]


def test_the_ticket_body_is_described_closed_to_unknown_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    create = spec["paths"]["/api/v1/tickets"]["post"]["requestBody"]["content"]["application/json"]
    schema = spec["components"]["schemas"][create["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"subject", "body_text", "customer", "queue", "attachments"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
