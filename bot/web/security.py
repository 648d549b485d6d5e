"""Who is asking, and may they: the session cookie, roles, CSRF and response headers.

Every workspace handler is wrapped by ``guarded(role)``: the session is looked up on the
server on every request (so a deactivation or a role change takes effect at once), the
role is checked on the server, and every unsafe request must carry the session's CSRF
token. Default deny: a handler without ``guarded`` is a bug the route test catches.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from urllib.parse import quote, urlparse

import aiohttp_jinja2
from aiohttp import web

from bot.web.context import Workspace, workspace_of
from services import audit, staff_access
from services.staff import Role, StaffView, has_role, view

log = logging.getLogger(__name__)

SESSION_COOKIE = "lyttepost_okt"
PRE_LOGIN_COOKIE = "lyttepost_forinnlogging"  # CSRF for the login form, before a session
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Visitor:
    """The signed-in staff member behind a request."""

    staff: StaffView
    session_id: int
    csrf_token: str


def cookies_secure(workspace: Workspace) -> bool:
    """Cookies are Secure unless the workspace is served over plain HTTP on loopback."""
    url = urlparse(workspace.settings.workspace_base_url())
    return not (url.scheme == "http" and url.hostname in LOOPBACK_HOSTS)


def idle_limit(workspace: Workspace) -> timedelta:
    return timedelta(minutes=workspace.settings.workspace_idle_minutes)


def harden(response: web.StreamResponse, *, private: bool = True) -> web.StreamResponse:
    """Headers every workspace response carries: no framing, no sniffing, a strict CSP,
    and no caching of pages that show people's names and answers."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if private:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def see_other(location: str) -> web.Response:
    """A 303 redirect as a response (so cookies can be set on it before it is returned)."""
    return web.Response(status=303, headers={"Location": location})


def set_session_cookie(response: web.StreamResponse, workspace: Workspace, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        secure=cookies_secure(workspace),
        path="/",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


def pre_login_token(request: web.Request) -> str:
    """A CSRF token for a form shown before anyone is signed in (double-submit cookie):
    the one the browser already holds, or a new one for ``set_pre_login_cookie``."""
    return request.cookies.get(PRE_LOGIN_COOKIE) or secrets.token_urlsafe(24)


def set_pre_login_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        PRE_LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=cookies_secure(workspace_of(request)),
        path="/logg-inn",
        max_age=3600,
    )


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def submitted_csrf(request: web.Request) -> str | None:
    """The CSRF token a request carries: a header (scripts) or a form field (forms)."""
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def refusal(
    request: web.Request, status: int, title: str, text: str, visitor: Visitor | None = None
) -> web.StreamResponse:
    """A plain page saying no, in Norwegian, with the right status (and, for someone
    signed in, the navigation to the pages they may open)."""
    from bot.web.render import navigation  # render imports this module

    context: dict[str, object] = {
        "title": title,
        "text": text,
        "visitor": visitor,
        "navigation": navigation(visitor),
        "csrf_token": visitor.csrf_token if visitor else "",
        "current_path": request.path,
    }
    response = aiohttp_jinja2.render_template("refused.html", request, context, status=status)
    return harden(response)


async def current_visitor(request: web.Request) -> Visitor | None:
    """The live session behind the request's cookie, if any (touching it)."""
    workspace = workspace_of(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        return None
    async with workspace.sessions.begin() as session:
        found = await staff_access.signed_in(
            session, cookie, workspace.now(), idle_limit(workspace)
        )
        if found is None:
            return None
        return Visitor(view(found.staff), found.session_id, found.csrf_token)


VISITOR = web.RequestKey("visitor", Visitor)


def actor_of(request: web.Request) -> audit.Actor:
    """The signed-in visitor as the audit log names them (``staff:<id>`` via the web)."""
    return audit.Actor.for_staff(visitor_of(request).staff, "web")


def path_id(request: web.Request, name: str) -> int:
    """A numeric id from the path (``/runder/{round_id}``); anything else is a 404."""
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 9:
        raise web.HTTPNotFound()
    return int(raw)


def visitor_of(request: web.Request) -> Visitor:
    """The visitor a ``guarded`` handler runs for."""
    visitor = request.get(VISITOR)
    assert isinstance(visitor, Visitor), "handler is not guarded"
    return visitor


def guarded(role: Role) -> Callable[[Handler], Handler]:
    """Only a signed-in staff member holding ``role`` reaches the handler; unsafe methods
    also need the session's CSRF token."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            visitor = await current_visitor(request)
            if visitor is None:
                if request.method in SAFE_METHODS:
                    target = quote(request.path_qs, safe="/?=&")
                    raise web.HTTPSeeOther(f"/logg-inn?neste={target}")
                return refusal(
                    request, 401, "Du er ikke logget inn", "Logg inn på nytt og prøv igjen."
                )
            if not has_role(visitor.staff, role):
                log.warning(
                    "workspace: %s %s refused for staff %s (role %s, needs %s)",
                    request.method,
                    request.path,
                    visitor.staff.id,
                    visitor.staff.role,
                    role,
                )
                return refusal(
                    request,
                    403,
                    "Ingen tilgang",
                    "Kontoen din har ikke tilgang til dette. Spør en administrator i KS.",
                    visitor,
                )
            if request.method not in SAFE_METHODS:
                if not same_token(await submitted_csrf(request), visitor.csrf_token):
                    log.warning(
                        "workspace: %s %s without a valid CSRF token (staff %s)",
                        request.method,
                        request.path,
                        visitor.staff.id,
                    )
                    return refusal(
                        request,
                        403,
                        "Skjemaet kunne ikke sendes",
                        "Skjemaet var utløpt eller kom ikke fra Lyttepost. "
                        "Last siden på nytt og prøv igjen.",
                        visitor,
                    )
            request[VISITOR] = visitor
            return harden(await handler(request))

        wrapper.required_role = role  # type: ignore[attr-defined]
        return wrapper

    return decorate
