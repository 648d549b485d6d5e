"""Staff sign in with Microsoft Entra ID (bot/web_oidc.py) against a stand-in tenant.

An aiohttp server mounts only the two sign-in routes, with callbacks that record who got
in and what was refused; an httpx client with a cookie jar plays the browser and follows
the redirects through the stand-in's authorization endpoint and back.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp import web

from bot.logs import Redactor
from bot.settings import Settings
from bot.web_oidc import (
    CALLBACK_PATH,
    COOKIE_NAME,
    START_PATH,
    Refusal,
    add_oidc_routes,
    cookie_secure,
)
from services import staff_access
from services.staff import StaffView, add_staff, deactivate
from storage.orm import CodeAttempt
from tests.entra_standin import FORGERIES, EntraStandIn, s256

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
KARI = "kari.nordmann@ks.no"


@dataclass
class Workspace:
    """The server under test, the browser, and what the callbacks saw."""

    base: str
    entra: EntraStandIn
    browser: httpx.AsyncClient
    signed_in: list[StaffView] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    async def sign_in(self, address: str = "192.0.2.10") -> httpx.Response:
        """Click "Logg inn med Microsoft" and follow every redirect."""
        return await self.browser.get(
            self.base + START_PATH, headers={"X-Test-Address": address}, follow_redirects=True
        )

    async def to_microsoft(self) -> str:
        """Start a sign-in, and return the URL Microsoft is asked to sign in at."""
        started = await self.browser.get(self.base + START_PATH)
        assert started.status_code == 302
        return started.headers["location"]

    async def answer(self, **query: str) -> httpx.Response:
        """Come back to the callback as Microsoft would send the browser, with ``query``."""
        return await self.browser.get(self.base + CALLBACK_PATH, params=query)


@asynccontextmanager
async def workspace(
    sessions, *, limit: int = 10, provider_timeout: float = 5.0, **settings: object
) -> AsyncIterator[Workspace]:
    async with EntraStandIn() as entra:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        values = {
            "http_host": "127.0.0.1",
            "http_port": port,
            "workspace_login_failures": limit,
            **entra.settings(),
            **settings,
        }
        config = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        browser = httpx.AsyncClient(timeout=30)
        seen = Workspace(f"http://127.0.0.1:{port}", entra, browser)

        async def on_signed_in(request: web.Request, staff: StaffView) -> web.StreamResponse:
            seen.signed_in.append(staff)
            return web.json_response({"signed_in": staff.email, "id": staff.id})

        async def on_refused(request: web.Request, refusal: Refusal) -> web.StreamResponse:
            seen.refusals.append(refusal)
            return web.Response(status=refusal.status, text=refusal.message)

        async def ping(request: web.Request) -> web.Response:
            return web.Response(text="pong")

        app = web.Application()
        add_oidc_routes(
            app,
            config,
            sessions,
            on_signed_in,
            on_refused,
            timeout=provider_timeout,
            client_address=lambda r: r.headers.get("X-Test-Address", "192.0.2.10"),
        )
        app.router.add_get("/ping", ping)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, listener).start()
        try:
            yield seen
        finally:
            await browser.aclose()
            entra.heal()
            await runner.cleanup()


@pytest.fixture
async def staff(sessions) -> dict[str, int]:
    """Kari, an active adviser; Ola, whose account was deactivated."""
    async with sessions.begin() as session:
        kari = await add_staff(session, "Kari Nordmann", KARI, "staff", NOW)
        ola = await add_staff(session, "Ola Nordmann", "ola.nordmann@ks.no", "admin", NOW)
        await deactivate(session, ola, NOW)
    return {"kari": kari.id, "ola": ola.id}


async def counted_failure(sessions, address: str = "192.0.2.10") -> bool:
    """Whether one more failure from ``address`` would be over a limit of 1 (any counted)."""
    async with sessions.begin() as session:
        return await staff_access.login_blocked(session, address, datetime.now(UTC), 1) is not None


# --- the happy path --------------------------------------------------------------------------


async def test_an_active_staff_member_signs_in_through_entra_with_pkce(sessions, staff) -> None:
    async with workspace(sessions) as ws:
        ws.entra.sign_in_as("Kari.Nordmann@KS.no")  # addresses compare without case
        answer = await ws.sign_in()

        assert answer.status_code == 200, answer.text
        assert answer.json() == {"signed_in": KARI, "id": staff["kari"]}
        assert [s.id for s in ws.signed_in] == [staff["kari"]] and ws.refusals == []
        # What we asked Microsoft for: code flow, PKCE S256, our callback, a nonce.
        (asked,) = ws.entra.authorizations
        assert asked["response_type"] == "code" and asked["client_id"] == ws.entra.client_id
        assert asked["redirect_uri"] == ws.base + "/logg-inn/entra/svar"
        assert set(asked["scope"].split()) == {"openid", "profile", "email"}
        assert asked["code_challenge_method"] == "S256"
        assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32
        # The verifier sent with the code is the one the challenge was made from.
        (call,) = ws.entra.token_calls
        assert call.status == 200 and call.client_ok and call.verifier_ok
        assert call.verifier is not None and 43 <= len(call.verifier) <= 128
        assert s256(call.verifier) == asked["code_challenge"] != call.verifier
        assert call.redirect_uri == asked["redirect_uri"]
        # The state was good for one answer: the cookie is gone.
        assert COOKIE_NAME not in ws.browser.cookies
        assert "Max-Age=0" in answer.headers["set-cookie"]


async def test_preferred_username_stands_in_for_a_missing_email_claim(sessions, staff) -> None:
    async with workspace(sessions) as ws:
        ws.entra.sign_in_as(None, preferred_username=KARI)
        answer = await ws.sign_in()
    assert answer.status_code == 200 and answer.json()["id"] == staff["kari"]


async def test_configuration_and_keys_are_fetched_once_for_many_sign_ins(sessions, staff) -> None:
    async with workspace(sessions) as ws:
        for _ in range(3):
            assert (await ws.sign_in()).status_code == 200
        assert (ws.entra.count("metadata"), ws.entra.count("keys")) == (1, 1)
        # A new signing key: the token names a kid we do not know, so the keys are read again.
        ws.entra.rotate_key()
        assert (await ws.sign_in()).status_code == 200
        assert ws.entra.count("keys") == 2
        # Made-up key ids do not: at most one look every five minutes.
        ws.entra.forge = "unknown key"
        assert [(await ws.sign_in()).status_code for _ in range(3)] == [403, 403, 403]
        assert (ws.entra.count("metadata"), ws.entra.count("keys")) == (1, 2)
    assert len(ws.signed_in) == 4


# --- the state cookie -----------------------------------------------------------------------


async def test_the_state_cookie_is_httponly_lax_short_lived_scoped_and_unreadable(
    sessions, staff
) -> None:
    async with workspace(sessions) as ws:
        started = await ws.browser.get(ws.base + START_PATH)
    assert started.headers["cache-control"] == "no-store"
    asked = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
    cookie = SimpleCookie(started.headers["set-cookie"])[COOKIE_NAME]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/logg-inn/entra" and cookie["max-age"] == "600"
    assert not cookie["secure"]  # plain HTTP on loopback only
    for secret in (asked["state"], asked["nonce"]):
        assert secret not in cookie.value  # encrypted, not just signed


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [
        ("http://127.0.0.1:8080", False),
        ("http://localhost:8080", False),
        ("http://[::1]:8080", False),
        ("https://lyttepost.ks.no", True),
        ("https://127.0.0.1:8443", True),
        ("http://lyttepost.ks.no", True),
        ("http://10.0.0.5:8080", True),
    ],
)
def test_cookies_are_secure_unless_plain_http_on_loopback(base_url, secure) -> None:
    assert cookie_secure(base_url) is secure


async def test_a_public_base_url_makes_the_cookie_secure(sessions, staff) -> None:
    async with workspace(sessions, public_base_url="https://lyttepost.ks.no") as ws:
        started = await ws.browser.get(ws.base + START_PATH)
    assert SimpleCookie(started.headers["set-cookie"])[COOKIE_NAME]["secure"] is True
    asked = parse_qs(urlsplit(started.headers["location"]).query)
    assert asked["redirect_uri"] == ["https://lyttepost.ks.no/logg-inn/entra/svar"]


async def test_sign_ins_started_in_two_tabs_both_complete(sessions, staff) -> None:
    async with workspace(sessions) as ws:
        first, second = await ws.to_microsoft(), await ws.to_microsoft()
        # The stand-in signs in at once and sends the browser back: code and state.
        back_first = (await ws.browser.get(first)).headers["location"]
        back_second = (await ws.browser.get(second)).headers["location"]
        answers = [await ws.browser.get(back_second), await ws.browser.get(back_first)]
        replayed = await ws.browser.get(back_first)
    assert [a.status_code for a in answers] == [200, 200] and len(ws.signed_in) == 2
    assert replayed.status_code == 400  # each state answers once


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["stranger@ks.no", "ola.nordmann@ks.no"])
async def test_an_unknown_or_deactivated_account_is_refused_and_counted(
    sessions, staff, who
) -> None:
    async with workspace(sessions) as ws:
        ws.entra.sign_in_as(who)
        answer = await ws.sign_in()
    assert answer.status_code == 403
    assert f"{who} har ingen aktiv konto i Lyttepost" in answer.text
    assert ws.signed_in == [] and await counted_failure(sessions)


async def test_an_account_without_any_address_is_refused(sessions, staff) -> None:
    async with workspace(sessions) as ws:
        ws.entra.sign_in_as(None, preferred_username=None)
        ws.entra.user.preferred_username = "not an address"
        answer = await ws.sign_in()
    assert answer.status_code == 403 and "oppgir ingen e-postadresse" in answer.text
    assert ws.signed_in == []


async def test_an_answer_with_another_state_is_refused_before_the_code_is_used(
    sessions, staff
) -> None:
    async with workspace(sessions) as ws:
        await ws.to_microsoft()
        no_state = await ws.answer(code="code-abc")
        other_state = await ws.answer(code="code-abc", state="a-state-we-never-issued")
        fresh_browser = httpx.AsyncClient()  # the right state, but not this browser's cookie
        url = await ws.to_microsoft()
        state = parse_qs(urlsplit(url).query)["state"][0]
        try:
            elsewhere = await fresh_browser.get(
                ws.base + CALLBACK_PATH, params={"code": "code-abc", "state": state}
            )
        finally:
            await fresh_browser.aclose()
    assert [r.status_code for r in (no_state, other_state, elsewhere)] == [400, 400, 400]
    assert "Start innloggingen på nytt" in elsewhere.text
    assert ws.entra.token_calls == [] and ws.signed_in == []
    assert await counted_failure(sessions)


async def test_a_stolen_code_fails_the_pkce_check(sessions, staff) -> None:
    """An attacker who captured Kari's code redeems it with a sign-in of their own: the
    token endpoint sees their verifier, not the one Kari's challenge was made from."""
    async with workspace(sessions) as ws:
        karis_trip = await ws.browser.get(await ws.to_microsoft())
        stolen_code = parse_qs(urlsplit(karis_trip.headers["location"]).query)["code"][0]
        async with httpx.AsyncClient() as attacker:
            own = await attacker.get(ws.base + START_PATH)
            state = parse_qs(urlsplit(own.headers["location"]).query)["state"][0]
            answer = await attacker.get(
                ws.base + CALLBACK_PATH, params={"code": stolen_code, "state": state}
            )
    assert answer.status_code == 403 and ws.signed_in == []
    (call,) = ws.entra.token_calls
    assert call.code_known and not call.verifier_ok and call.status == 400


WHY_REFUSED = {
    "wrong audience": "Invalid claim: 'aud'",
    "wrong issuer": "Invalid claim: 'iss'",
    "expired": "expired",
    "no expiry": "Missing claim: 'exp'",
    "bad signature": "bad_signature",
    "unknown key": "unknown signing key",
    "alg none": "algorithm 'none' is not accepted",
    "HS256 with the public key": "algorithm 'HS256' is not accepted",
    "no nonce": "Missing claim: 'nonce'",
    "other nonce": "Invalid claim: 'nonce'",
}


def test_every_forgery_has_its_reason() -> None:
    assert set(WHY_REFUSED) == set(FORGERIES)


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_an_id_token_wrong_in_any_way_is_refused(sessions, staff, forgery, caplog) -> None:
    async with workspace(sessions) as ws:
        ws.entra.forge = forgery
        answer = await ws.sign_in()
    assert answer.status_code == 403, forgery
    assert "Vi kunne ikke bekrefte innloggingen" in answer.text
    assert ws.signed_in == [] and len(ws.entra.id_tokens) == 1
    (line,) = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert WHY_REFUSED[forgery] in line
    assert await counted_failure(sessions)


async def test_the_log_names_no_secret_of_the_sign_in(sessions, staff, caplog) -> None:
    caplog.set_level("DEBUG", logger="bot.web_oidc")
    async with workspace(sessions) as ws:
        assert (await ws.sign_in()).status_code == 200
        ws.entra.forge = "other nonce"
        assert (await ws.sign_in()).status_code == 403
        ws.entra.forge = None
        ws.entra.sign_in_as("stranger@ks.no")
        assert (await ws.sign_in()).status_code == 403
    # The log as Lyttepost writes it: every record through the redacting handler's filter
    # (aiohttp's access log, captured here too, writes the callback's request line).
    redactor = Redactor.build([])
    # httpx is this test's browser (its request log shows what a browser's history would).
    logged = "\n".join(redactor.text(r.getMessage()) for r in caplog.records if r.name != "httpx")
    assert "signed in with Entra ID" in logged and "no active staff account" in logged
    secrets = [ws.entra.client_secret, *ws.entra.id_tokens]
    for asked in ws.entra.authorizations:
        secrets += [asked["state"], asked["nonce"], asked["code_challenge"]]
    secrets += [call.verifier or "" for call in ws.entra.token_calls]
    assert all(secret and secret not in logged for secret in secrets)
    assert "code-" not in logged and "eyJ" not in logged


async def test_a_user_who_cancels_at_microsoft_is_told_so_politely(sessions, staff) -> None:
    async with workspace(sessions) as ws:
        ws.entra.deny = "access_denied"
        answer = await ws.sign_in()
    assert answer.status_code == 403
    assert "ble avbrutt" in answer.text and "Du kan prøve igjen" in answer.text
    assert ws.entra.token_calls == [] and ws.signed_in == []
    assert not await counted_failure(sessions)  # changing one's mind is no attack


# --- a slow Microsoft ---------------------------------------------------------------------------


async def test_a_hanging_token_endpoint_is_refused_in_time_and_blocks_nothing(
    sessions, staff
) -> None:
    async with workspace(sessions, provider_timeout=1.0) as ws:
        ws.entra.hang("token")
        began = time.monotonic()
        sign_in = asyncio.create_task(ws.sign_in())
        await ws.entra.reached("token")
        ping_began = time.monotonic()
        ping = await ws.browser.get(ws.base + "/ping")
        ping_took = time.monotonic() - ping_began
        answer = await sign_in
        took = time.monotonic() - began
    assert ping.text == "pong" and ping_took < 0.5
    assert answer.status_code == 503 and "ikke tilgjengelig akkurat nå" in answer.text
    assert 1.0 <= took < 2.5, took
    assert not await counted_failure(sessions)  # Microsoft's trouble is not the user's failure


async def test_a_hanging_configuration_is_refused_in_time_at_the_start(sessions, staff) -> None:
    async with workspace(sessions, provider_timeout=0.5) as ws:
        ws.entra.hang("metadata")
        began = time.monotonic()
        answer = await ws.browser.get(ws.base + START_PATH)
        took = time.monotonic() - began
        ws.entra.heal()
        again = await ws.sign_in()  # it answers again: the next click works
    assert answer.status_code == 503 and 0.5 <= took < 2.0
    assert COOKIE_NAME not in answer.headers.get("set-cookie", "")
    assert again.status_code == 200


async def test_hanging_keys_are_refused_in_time(sessions, staff) -> None:
    async with workspace(sessions, provider_timeout=0.5) as ws:
        ws.entra.hang("keys")
        began = time.monotonic()
        answer = await ws.sign_in()
        took = time.monotonic() - began
    assert answer.status_code == 503 and took < 2.0 and ws.signed_in == []


# --- the limit on failed sign-ins ------------------------------------------------------------


async def test_an_address_is_blocked_after_the_allowed_failures(sessions, staff) -> None:
    async with workspace(sessions, limit=3) as ws:
        ws.entra.sign_in_as("stranger@ks.no")
        tries = [await ws.sign_in() for _ in range(3)]
        ws.entra.sign_in_as(KARI)  # even the right account now waits
        authorizations = len(ws.entra.authorizations)
        blocked = await ws.sign_in()
        blocked_callback = await ws.answer(code="code-x", state="s")
        asked_while_blocked = len(ws.entra.authorizations) - authorizations
        elsewhere = await ws.sign_in(address="198.51.100.7")
    assert [t.status_code for t in tries] == [403, 403, 403]
    assert blocked.status_code == 429 and "For mange mislykkede innlogginger" in blocked.text
    assert 14 * 60 <= int(blocked.headers["retry-after"]) <= 15 * 60
    assert asked_while_blocked == 0  # not even sent to Microsoft
    assert blocked_callback.status_code == 429
    assert elsewhere.status_code == 200 and [s.email for s in ws.signed_in] == [KARI]


async def test_the_limit_counts_per_address_within_fifteen_minutes(sessions) -> None:
    address, minute = "203.0.113.9", timedelta(minutes=1)
    async with sessions.begin() as session:
        for i in range(3):
            await staff_access.record_login_failure(session, address, NOW + i * minute)
        # An invitation-code failure from a chat with the same address string does not count.
        session.add(CodeAttempt(channel="telegram", address=address, attempted_at=NOW))
    async with sessions.begin() as session:
        blocked = staff_access.login_blocked
        assert await blocked(session, address, NOW + 2 * minute, 4) is None
        until = await blocked(session, address, NOW + 2 * minute, 3)
        assert until == NOW + timedelta(minutes=15)  # when the oldest failure leaves the window
        assert await blocked(session, address, NOW + timedelta(minutes=15), 3) is None
        assert await blocked(session, address, NOW + timedelta(minutes=15), 2) == NOW + 16 * minute
        assert await blocked(session, "203.0.113.10", NOW + 2 * minute, 1) is None
