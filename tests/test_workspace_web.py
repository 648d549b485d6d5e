"""KS's workspace over HTTP: signing in, roles, CSRF, the overview and a round's changes.

The real web app (``build_runtime`` + ``web_app``) on SQLite and PostgreSQL, driven by a
cookie-keeping client; the browser tests (tests/browser/) click through the same pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy import select

from services import audit
from services.lifecycle import open_round
from services.rounds import Audience, create_round
from services.surveys import latest_version, register_shipped_surveys
from storage.orm import Organisation, Response, Round
from tests.workspace_support import Browser, WorkspaceSite, csrf_in, workspace_site

ZONE = ZoneInfo("Europe/Oslo")


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def open_round_with_answers(site: WorkspaceSite, submitted: list[str]) -> int:
    """An open round for every member, with submitted responses from ``submitted`` orgs."""
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        await register_shipped_surveys(session)
        version = await latest_version(session, "kvartalsvis-behov")
        assert version is not None
        round_ = await create_round(
            session, survey_version_id=version.id, title="Behov vinter 2027",
            audience=Audience(), opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=14),
        )  # fmt: skip
        await open_round(session, round_, now, ZONE, actor="test", invite=False)
        for code in submitted:
            org = await session.scalar(select(Organisation.id).where(Organisation.code == code))
            assert org is not None
            session.add(
                Response(round_id=round_.id, organisation_id=org, status="submitted",
                         state={}, submitted_at=now)
            )  # fmt: skip
        return round_.id


# --- signing in -----------------------------------------------------------------------------


async def test_a_visitor_without_a_session_is_sent_to_sign_in(site: WorkspaceSite) -> None:
    browser = Browser(site, site.client)
    response = await browser.get("/runder?x=1")
    assert response.status == 303
    assert response.headers["Location"] == "/logg-inn?neste=/runder?x=1"
    page = await browser.get("/logg-inn")
    assert page.status == 200 and "Logg inn i Lyttepost" in await page.text()


async def test_a_login_link_signs_in_once_with_a_safe_cookie(site: WorkspaceSite) -> None:
    await site.staff("Kari Nordmann", "kari@ks.no", "staff")
    link = await site.login_link("kari@ks.no")
    browser = Browser(site, site.client)
    opened = await browser.get(link)
    assert opened.status == 200 and opened.headers["Referrer-Policy"] == "no-referrer"
    assert await browser.get(link) is not None  # opening it again (a link preview) is harmless
    signed_in = await browser.post(link, {"csrf_token": csrf_in(await opened.text())})
    assert signed_in.status == 303 and signed_in.headers["Location"] == "/"
    cookie = signed_in.cookies["lyttepost_okt"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain HTTP on loopback; Secure everywhere else
    home = await browser.get("/")
    assert home.status == 200 and "Kari Nordmann" in await home.text()

    again = Browser(site, site.client)
    reopened = await again.get(link)
    refused = await again.post(link, {"csrf_token": csrf_in(await reopened.text())})
    assert refused.status == 400 and "allerede brukt" in await refused.text()
    async with site.sessions() as session:
        logins = await audit.entries(session, audit.AuditQuery(action="staff.login"))
    assert [(e.staff_name, e.detail) for e in logins] == [("Kari Nordmann", {"via": "link"})]


async def test_the_login_form_needs_its_own_token(site: WorkspaceSite) -> None:
    await site.staff("Kari", "kari@ks.no", "staff")
    link = await site.login_link("kari@ks.no")
    browser = Browser(site, site.client)
    await browser.get(link)
    forged = await browser.post(link, {"csrf_token": "guessed"})
    assert forged.status == 403
    assert "lyttepost_okt" not in browser.cookies
    assert (await browser.use_link(link)).status == 303  # the link was not used up


async def test_cookies_are_secure_off_loopback(migrated_url: str) -> None:
    async with workspace_site(migrated_url, public_base_url="https://lyttepost.ks.no") as site:
        await site.staff("Kari", "kari@ks.no", "staff")
        response = await Browser(site, site.client).use_link(await site.login_link("kari@ks.no"))
        assert response.cookies["lyttepost_okt"]["secure"]


async def test_signing_out_ends_the_session_on_the_server(site: WorkspaceSite) -> None:
    browser = await site.signed_in("Kari", "kari@ks.no", "viewer")
    kept = dict(browser.cookies)
    response = await browser.post("/logg-ut", {"csrf_token": await browser.csrf()})
    assert response.status == 303 and response.headers["Location"] == "/logg-inn?melding=ut"
    browser.cookies = kept  # a copied cookie opens nothing either
    assert (await browser.get("/")).status == 303


async def test_open_redirects_are_not_followed() -> None:
    from bot.web.login import safe_next

    assert safe_next("/runder/3?x=1") == "/runder/3?x=1"
    for hostile in ("https://evil.example", "//evil.example", "/\\evil.example", "", None):
        assert safe_next(hostile) == "/"


# --- pages -------------------------------------------------------------------------------------


async def test_the_overview_shows_the_open_rounds_real_figures(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, ["0301", "4601", "3301"])
    browser = await site.signed_in("Kari", "kari@ks.no", "viewer")
    response = await browser.get("/")
    html = await response.text()
    assert response.status == 200
    assert f'href="/runder/{round_id}">Behov vinter 2027' in html
    assert "1\u00a0%" in html and "(3 av 371)" in html  # 3 of 371 is 0.8 %, shown as 1 %
    assert "Invitasjonene sendes" in html  # the next automatic step (none were queued)
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in response.headers
    assert response.headers["Cache-Control"] == "no-store"


async def test_closing_a_round_asks_first_and_says_to_how_many(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, ["0301"])
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    confirm = await admin.get(f"/runder/{round_id}/bekreft?handling=close")
    text = await confirm.text()
    assert confirm.status == 200 and "1 organisasjon har svart" in text
    async with site.sessions() as session:
        assert (await session.get(Round, round_id)).status == "open"  # nothing happened yet
    done = await admin.post(
        f"/runder/{round_id}/handling", {"csrf_token": csrf_in(text), "handling": "close"}
    )
    assert done.status == 303 and done.headers["Location"] == f"/runder/{round_id}?utfort=close"
    page = await admin.get(done.headers["Location"])
    assert "Runden er stengt." in await page.text()
    async with site.sessions() as session:
        assert (await session.get(Round, round_id)).status == "closed"
        (entry,) = await audit.entries(session, audit.AuditQuery(action="round.close"))
    assert (entry.staff_name, entry.door, entry.target) == ("Ada", "web", f"round:{round_id}")


async def test_a_change_the_round_does_not_allow_is_explained(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, [])
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    response = await admin.get(f"/runder/{round_id}/bekreft?handling=extend&frist=2001-01-01T10:00")
    assert response.status == 409 and "allerede passert" in await response.text()
    response = await admin.get(f"/runder/{round_id}/bekreft?handling=explode")
    assert response.status == 409 and "Ukjent handling «explode»" in await response.text()
    assert (await admin.get("/runder/999999")).status == 404
    assert (await admin.get("/runder/abc")).status == 404


async def test_a_viewer_sees_no_change_buttons_and_a_forged_post_is_refused(
    site: WorkspaceSite,
) -> None:
    round_id = await open_round_with_answers(site, [])
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    page = await viewer.get(f"/runder/{round_id}")
    assert page.status == 200 and "Steng nå" not in await page.text()
    assert (await viewer.get(f"/runder/{round_id}/bekreft?handling=close")).status == 403
    forged = await viewer.post(
        f"/runder/{round_id}/handling", {"csrf_token": await viewer.csrf(), "handling": "close"}
    )
    assert forged.status == 403
    async with site.sessions() as session:
        assert (await session.get(Round, round_id)).status == "open"


async def test_a_post_without_the_csrf_token_is_refused(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, [])
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    for token in ({}, {"csrf_token": "forged"}):
        refused = await admin.post(f"/runder/{round_id}/handling", {"handling": "close", **token})
        assert refused.status == 403 and "Skjemaet kunne ikke sendes" in await refused.text()
    async with site.sessions() as session:
        assert (await session.get(Round, round_id)).status == "open"


# --- every route -------------------------------------------------------------------------------

PUBLIC = {
    "/logg-inn", "/logg-inn/lenke/{secret}", "/static", "/healthz", "/readyz", "/metrics",
    "/api/v1/openapi.yaml",
}  # fmt: skip


def _workspace_routes(app: web.Application) -> list[tuple[str, str, object]]:
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        if route.method == "HEAD" or path in PUBLIC or path.startswith("/api/messages"):
            continue
        routes.append((route.method, path, route.handler))
    return routes


async def test_every_workspace_route_checks_a_role_and_every_write_refuses_a_viewer(
    site: WorkspaceSite,
) -> None:
    routes = _workspace_routes(site.client.server.app)
    assert routes, "no workspace routes found"
    unguarded = [(m, p) for m, p, h in routes if not hasattr(h, "required_role")]
    assert unguarded == []
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    token = await viewer.csrf()
    writes = [
        (m, p)
        for m, p, h in routes
        if m == "POST" and h.required_role != "viewer"  # type: ignore[attr-defined]
    ]
    assert writes, "no write routes found"
    for method, path in writes:
        concrete = re.sub(r"\{[a-z_]+\}", "1", path)
        response = await viewer.post(concrete, {"csrf_token": token})
        assert response.status == 403, (method, path, response.status)


# --- the annual plan --------------------------------------------------------------------------

PLAN = Path(__file__).resolve().parent.parent / "docs" / "examples" / "arshjul-2027.yaml"


async def test_a_plan_is_dry_run_first_and_applied_all_or_nothing(site: WorkspaceSite) -> None:
    async with site.sessions.begin() as session:
        await register_shipped_surveys(session)
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/arsplan")
    text = PLAN.read_text(encoding="utf-8")
    checked = await admin.post("/arsplan/sjekk", {"csrf_token": token, "plan": text})
    html = await checked.text()
    assert checked.status == 200 and "Prøvekjøring" in html and html.count(">ny<") == 4
    async with site.sessions() as session:
        assert (await session.scalars(select(Round))).all() == []  # a dry run changes nothing
    applied = await admin.post("/arsplan/bruk", {"csrf_token": csrf_in(html), "plan": text})
    assert applied.status == 200 and "Planen er tatt i bruk" in await applied.text()
    async with site.sessions() as session:
        titles = sorted((await session.scalars(select(Round.title))).all())
        (entry,) = await audit.entries(session, audit.AuditQuery(action="plan.apply"))
    assert len(titles) == 4 and titles[0] == "Behovsinnhenting 1. kvartal 2027"
    assert entry.detail == {"created": 4} and entry.staff_name == "Ada"


async def test_a_broken_plan_shows_its_lines_and_changes_nothing(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/arsplan")
    broken = PLAN.read_text(encoding="utf-8").replace("closes: 2027-01-29", "closes: 2027-13-29")
    for form in ({"plan": broken}, {"plan": ""}, {"plan": "- just\n- a list"}):
        response = await admin.post("/arsplan/bruk", {"csrf_token": token, **form})
        assert response.status == 422, form
        assert "ingenting er endret" in await response.text()
    response = await admin.post("/arsplan/sjekk", {"csrf_token": token, "plan": broken})
    assert (
        "årsplan:29: rounds[0].closes: &#39;2027-13-29&#39;: there is no such date"
        in await response.text()
    )
    async with site.sessions() as session:
        assert (await session.scalars(select(Round))).all() == []


async def test_failed_sign_ins_are_limited_per_address(migrated_url: str) -> None:
    async with workspace_site(migrated_url, workspace_login_failures=3) as site:
        await site.staff("Kari", "kari@ks.no", "staff")
        browser = Browser(site, site.client)
        for attempt in range(3):
            refused = await browser.use_link(f"/logg-inn/lenke/guess-{attempt}")
            assert refused.status == 400
        good = await site.login_link("kari@ks.no")
        blocked = await browser.use_link(good)
        assert blocked.status == 429 and int(blocked.headers["Retry-After"]) > 0
        assert "For mange mislykkede innlogginger" in await blocked.text()
        assert "lyttepost_okt" not in browser.cookies


async def test_a_round_page_lists_its_coming_automatic_steps_in_order(site: WorkspaceSite) -> None:
    round_id = await open_round_with_answers(site, [])
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    html = await (await viewer.get(f"/runder/{round_id}")).text()
    steps = html.split("Neste automatiske steg")[1].split("</ul>")[0]
    invite, remind, close = (
        steps.index("Invitasjonene sendes: "),  # now, or after quiet hours
        steps.index("Påminnelse til dem som ikke har svart (nr. 1)"),
        steps.index("Runden stenger"),
    )
    assert invite < remind < close
