"""The read-only JSON API under /api/v1/: what the pages show, for Excel and Power BI.

Personal API tokens (``lyttepost staff token``) in ``Authorization: Bearer``; stored
hashed, revocable, and checked against the account's role on every request like the
pages. Documented in bot/web/openapi.yaml, which a test holds to the live routes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from importlib.resources import files
from typing import Any

from aiohttp import web

from bot.web.context import workspace_of
from services import staff_access
from services.export import round_export
from services.report_data import build_summary
from services.response_rate import round_progress
from services.staff import Role, has_role, view
from services.views_rounds import round_rows

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
JsonHandler = Callable[[web.Request], Awaitable[Any]]


def _error(status: int, message: str) -> web.Response:
    response = web.json_response({"error": message}, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lyttepost"'
    response.headers["Cache-Control"] = "no-store"
    return response


def api_guarded(
    role: Role,
) -> Callable[[JsonHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A personal API token of an active account holding ``role``; the handler's result
    is sent as JSON. Refusals are JSON too, never a login page."""

    def decorate(handler: JsonHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return _error(401, "an API token is required: Authorization: Bearer <token>")
            workspace = workspace_of(request)
            async with workspace.sessions.begin() as session:
                staff = await staff_access.api_staff(session, token.strip(), workspace.now())
                account = view(staff) if staff is not None else None
            if account is None:
                log.warning("api: %s refused: unknown or revoked token", request.path)
                return _error(401, "unknown or revoked API token")
            if not has_role(account, role):
                log.warning(
                    "api: %s refused for staff %s (needs %s)", request.path, account.id, role
                )
                return _error(403, f"this needs the {role} role")
            try:
                document = await handler(request)
            except LookupError as error:
                return _error(404, str(error))
            response = web.json_response(document)
            response.headers["Cache-Control"] = "no-store"
            return response

        wrapper.required_role = role  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _round_id(request: web.Request) -> int:
    raw = request.match_info["round_id"]
    if not raw.isdigit() or len(raw) > 9:
        raise LookupError(f"no round with id {raw[:20]}")
    return int(raw)


@api_guarded("viewer")
async def rounds(request: web.Request) -> Any:
    async with workspace_of(request).sessions() as session:
        return {"rounds": [row.to_json() for row in await round_rows(session)]}


@api_guarded("viewer")
async def progress(request: web.Request) -> Any:
    async with workspace_of(request).sessions() as session:
        return (await round_progress(session, _round_id(request))).to_json()


@api_guarded("staff")
async def responses(request: web.Request) -> Any:
    """As ``lyttepost export``: every response with its organisation and who answered
    (names and free text: the staff role)."""
    workspace = workspace_of(request)
    round_id = _round_id(request)
    async with workspace.sessions() as session:
        _, documents = await round_export(session, workspace.catalog, round_id)
    return {"round": round_id, "responses": documents}


@api_guarded("viewer")
async def summary(request: web.Request) -> Any:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        built = await build_summary(session, workspace.catalog, _round_id(request))
    return built.to_json()


async def openapi(_: web.Request) -> web.StreamResponse:
    """The API's description (public: it holds no data)."""
    text = files("bot.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return web.Response(text=text, content_type="application/yaml")


openapi.public = True  # type: ignore[attr-defined]


def add_api_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/openapi.yaml", openapi)
    app.router.add_get(f"{PREFIX}/rounds", rounds)
    app.router.add_get(f"{PREFIX}/rounds/{{round_id}}/progress", progress)
    app.router.add_get(f"{PREFIX}/rounds/{{round_id}}/responses", responses)
    app.router.add_get(f"{PREFIX}/rounds/{{round_id}}/summary", summary)
