"""The read-only JSON API: personal tokens, roles, and an OpenAPI file that matches the
live routes and the documents they return."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from services import staff_access
from services.staff import add_staff
from tests.test_workspace_web import open_round_with_answers
from tests.workspace_support import WorkspaceSite, workspace_site

SPEC: dict[str, Any] = yaml.safe_load(
    files("bot.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
)


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def token_for(site: WorkspaceSite, email: str, role: str) -> str:
    async with site.sessions.begin() as session:
        staff = await add_staff(session, email.split("@")[0], email, role, datetime.now(UTC))
        issued = await staff_access.issue(session, staff, "api", datetime.now(UTC), ttl=None)
    return issued.secret


def check_against_spec(path: str, status: int, document: Any) -> None:
    """The document matches the schema the OpenAPI file gives for this path and status."""
    operation = SPEC["paths"][path]["get"]
    answer = operation["responses"][str(status)]
    if "$ref" in answer:
        answer = SPEC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = answer["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": SPEC["components"]}).validate(document)


def test_the_openapi_file_is_valid_openapi() -> None:
    validate_spec(SPEC)


def test_the_openapi_file_describes_exactly_the_live_routes(migrated_url: str) -> None:
    from bot.app import build_runtime, web_app
    from bot.settings import Settings

    runtime = build_runtime(
        Settings(_env_file=None, database_url=migrated_url, scheduler_enabled=False),
        with_telegram=False,
    )
    live = {
        (route.method.lower(), route.resource.canonical)
        for route in web_app(runtime).router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1")
        and route.method != "HEAD"
    }
    documented = {(method, path) for path, item in SPEC["paths"].items() for method in item}
    assert live == documented


async def test_each_call_answers_what_the_file_promises(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, ["0301", "4601"])
    token = await token_for(site, "pbi@ks.no", "staff")
    headers = {"Authorization": f"Bearer {token}"}
    for path in SPEC["paths"]:
        if path.endswith("openapi.yaml"):
            continue
        concrete = path.replace("{round_id}", str(round_id))
        response = await site.client.get(concrete, headers=headers)
        assert response.status == 200, (path, await response.text())
        document = await response.json()
        check_against_spec(path, 200, document)
    progress = await (
        await site.client.get(f"/api/v1/rounds/{round_id}/progress", headers=headers)
    ).json()
    assert (progress["submitted"], progress["organisations"]) == (2, 371)
    answers = await (
        await site.client.get(f"/api/v1/rounds/{round_id}/responses", headers=headers)
    ).json()
    assert sorted(r["org"] for r in answers["responses"]) == ["0301", "4601"]


async def test_refusals_are_json_and_say_why(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, [])
    viewer = await token_for(site, "vera@ks.no", "viewer")
    progress, responses = (
        "/api/v1/rounds/{round_id}/progress",
        "/api/v1/rounds/{round_id}/responses",
    )
    summary = "/api/v1/rounds/{round_id}/summary"
    bearer = {"Authorization": f"Bearer {viewer}"}
    cases = [
        ({}, progress, str(round_id), 401),
        ({"Authorization": "Bearer made-up"}, "/api/v1/rounds", "", 401),
        ({"Authorization": f"Basic {viewer}"}, "/api/v1/rounds", "", 401),
        (bearer, responses, str(round_id), 403),
        (bearer, progress, "999999", 404),
        (bearer, summary, "x", 404),
    ]
    for headers, template, round_text, status in cases:
        response = await site.client.get(
            template.replace("{round_id}", round_text), headers=headers
        )
        assert response.status == status, (template, status)
        check_against_spec(template, status, await response.json())
    unauthorised = await site.client.get("/api/v1/rounds")
    assert unauthorised.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_revoked_token_stops_working(site: WorkspaceSite) -> None:
    token = await token_for(site, "pbi@ks.no", "viewer")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await site.client.get("/api/v1/rounds", headers=headers)).status == 200
    async with site.sessions.begin() as session:
        staff = await staff_access.api_staff(session, token, datetime.now(UTC))
        assert staff is not None and staff.email == "pbi@ks.no"
        (stored,) = await staff_access.tokens_of(session, staff, "api")
        assert stored.last_used_at is not None
        await staff_access.revoke(session, stored.id, datetime.now(UTC))
    assert (await site.client.get("/api/v1/rounds", headers=headers)).status == 401
