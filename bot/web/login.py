"""Signing in and out: single-use login links here, Entra ID in bot/web_oidc.py.

A login link is redeemed by a POST from the page it opens, never by the GET itself:
mail and chat previews fetch links, and must not use up a single-use link.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.render import page
from bot.web.security import (
    PRE_LOGIN_COOKIE,
    clear_session_cookie,
    guarded,
    harden,
    pre_login_token,
    same_token,
    see_other,
    set_pre_login_cookie,
    set_session_cookie,
    visitor_of,
)
from bot.web_oidc import Refusal, add_oidc_routes, remote_address
from services import staff_access
from services.staff import StaffView

log = logging.getLogger(__name__)

REFUSALS = {
    "unknown": "Innloggingslenken er ikke gyldig. Be om en ny.",
    "used": "Innloggingslenken er allerede brukt. Be om en ny.",
    "expired": "Innloggingslenken er utløpt (den virker i 15 minutter). Be om en ny.",
    "inactive": "Kontoen din er ikke aktiv. Spør en administrator i KS.",
}
TOO_MANY = "For mange mislykkede innlogginger herfra. Vent en stund og prøv igjen."
MESSAGES = {
    "ut": "Du er logget ut.",
    "utlopt": "Du var borte en stund og er logget ut. Logg inn igjen.",
}


def safe_next(value: str | None) -> str:
    """Only a path on this site is a place to go after signing in (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or "\\" in value:
        return "/"
    return value


async def login_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    message = MESSAGES.get(request.query.get("melding", ""), "")
    return page(
        request,
        "login.html",
        {
            "entra": workspace.settings.entra_enabled(),
            "message": message,
            "problem": False,
            "next_path": safe_next(request.query.get("neste")),
        },
        title="Logg inn",
    )


async def login_link_page(request: web.Request) -> web.StreamResponse:
    """The page a login link opens: a button that signs in (the POST below)."""
    token = pre_login_token(request)
    response = page(
        request, "login_link.html", {"action": request.path, "form_token": token}, title="Logg inn"
    )
    set_pre_login_cookie(request, response, token)
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a secret
    return response


async def redeem_login_link(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    form = await request.post()
    given = form.get("csrf_token")
    if not same_token(
        given if isinstance(given, str) else None, request.cookies.get(PRE_LOGIN_COOKIE)
    ):
        return _refused(request, "Skjemaet var utløpt. Åpne innloggingslenken på nytt.", 403)
    secret = request.match_info["secret"]
    now = workspace.now()
    address = remote_address(request)
    async with workspace.sessions.begin() as session:
        blocked = await staff_access.login_blocked(
            session, address, now, workspace.settings.workspace_login_failures
        )
        if blocked is not None:
            log.warning("workspace: sign-in refused for %s: too many failures", address)
            response = _refused(request, TOO_MANY, 429)
            response.headers["Retry-After"] = str(max(1, int((blocked - now).total_seconds())))
            return response
        result = await staff_access.redeem(session, secret, "login_link", now)
        if result.outcome != "ok" or result.staff is None:
            log.info("workspace: login link refused (%s)", result.outcome)
            await staff_access.record_login_failure(session, address, now)
            return _refused(request, REFUSALS[result.outcome], 400)
        opened = await staff_access.sign_in(session, result.staff, "link", now)
        log.info("workspace: staff %s signed in by link", result.staff.id)
    return _signed_in_redirect(request, opened, "/")


def _signed_in_redirect(
    request: web.Request, opened: staff_access.OpenedSession, target: str
) -> web.StreamResponse:
    response = see_other(safe_next(target))
    set_session_cookie(response, workspace_of(request), opened.cookie)
    response.del_cookie(PRE_LOGIN_COOKIE, path="/logg-inn")
    return harden(response)


def _refused(request: web.Request, message: str, status: int) -> web.StreamResponse:
    return page(
        request,
        "login.html",
        {
            "entra": workspace_of(request).settings.entra_enabled(),
            "message": message,
            "problem": True,
            "next_path": "/",
        },
        title="Logg inn",
        status=status,
    )


async def entra_signed_in(request: web.Request, staff: StaffView) -> web.StreamResponse:
    """Entra said who this is and the account is active: open the session."""
    workspace = workspace_of(request)
    async with workspace.sessions.begin() as session:
        opened = await staff_access.sign_in(session, staff, "oidc", workspace.now())
    log.info("workspace: staff %s signed in with Entra ID", staff.id)
    return _signed_in_redirect(request, opened, "/")


async def entra_refused(request: web.Request, refusal: Refusal) -> web.StreamResponse:
    return _refused(request, refusal.message, refusal.status)


@guarded("viewer")
async def logout(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    visitor = visitor_of(request)
    async with workspace.sessions.begin() as session:
        await staff_access.end_session(session, visitor.session_id, workspace.now())
    response = see_other("/logg-inn?melding=ut")
    clear_session_cookie(response)
    return response


def add_login_routes(app: web.Application, workspace: Workspace) -> None:
    app.router.add_get("/logg-inn", login_page)
    settings = workspace.settings
    if settings.entra_enabled():
        add_oidc_routes(
            app, settings, workspace.sessions, entra_signed_in, entra_refused,
            timeout=settings.entra_timeout_seconds, clock=workspace.clock,
        )  # fmt: skip
    app.router.add_get(staff_access.LOGIN_PATH + "{secret}", login_link_page)
    app.router.add_post(staff_access.LOGIN_PATH + "{secret}", redeem_login_link)
    app.router.add_post("/logg-ut", logout)
