"""Staff accounts, their secrets and sessions, and the audit log (services layer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services import audit, staff_access
from services.staff import StaffError, add_staff, deactivate, has_role, set_role
from storage.orm import StaffToken

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


async def test_roles_are_ordered_and_only_active_accounts_hold_them(sessions) -> None:
    async with sessions.begin() as session:
        kari = await add_staff(session, " Kari  Nordmann ", "Kari@KS.no", "staff", NOW)
        assert (kari.name, kari.email) == ("Kari Nordmann", "kari@ks.no")
        assert has_role(kari, "viewer") and has_role(kari, "staff")
        assert not has_role(kari, "admin")
        await set_role(session, kari, "admin")
        assert has_role(kari, "admin")
        await deactivate(session, kari, NOW)
        assert not has_role(kari, "viewer")


@pytest.mark.parametrize(
    ("name", "email", "role", "says"),
    [
        ("", "a@ks.no", "staff", "needs a name"),
        ("A", "not-an-address", "staff", "not an e-mail"),
        ("A", "a@ks.no", "boss", "unknown role"),
    ],
)
async def test_bad_accounts_are_refused_with_the_reason(sessions, name, email, role, says) -> None:
    async with sessions.begin() as session:
        with pytest.raises(StaffError, match=says):
            await add_staff(session, name, email, role, NOW)


async def test_a_second_account_for_one_address_is_refused(sessions) -> None:
    async with sessions.begin() as session:
        await add_staff(session, "Kari", "kari@ks.no", "staff", NOW)
        with pytest.raises(StaffError, match="already has a staff account"):
            await add_staff(session, "Kari N", "KARI@ks.no", "viewer", NOW)


async def test_a_login_link_works_once_and_for_fifteen_minutes(sessions) -> None:
    async with sessions.begin() as session:
        kari = await add_staff(session, "Kari", "kari@ks.no", "staff", NOW)
        url, expires = await staff_access.issue_login_link(session, kari, NOW, "http://x:8080/")
        late_url, _ = await staff_access.issue_login_link(session, kari, NOW, "http://x:8080")
    assert url.startswith("http://x:8080/logg-inn/lenke/") and expires == NOW + timedelta(
        minutes=15
    )
    secret, late = url.rsplit("/", 1)[1], late_url.rsplit("/", 1)[1]
    async with sessions.begin() as session:
        stored = list(await session.scalars(select(StaffToken.token_hash)))
        assert secret not in stored and staff_access.hash_secret(secret) in stored
        first = await staff_access.redeem(session, secret, "login_link", NOW)
        again = await staff_access.redeem(session, secret, "login_link", NOW)
        expired = await staff_access.redeem(
            session, late, "login_link", NOW + timedelta(minutes=15)
        )
        wrong_kind = await staff_access.redeem(session, late, "chat_code", NOW)
        unknown = await staff_access.redeem(session, "made-up", "login_link", NOW)
    assert first.outcome == "ok" and first.staff is not None
    assert [again.outcome, expired.outcome, wrong_kind.outcome, unknown.outcome] == [
        "used",
        "expired",
        "unknown",
        "unknown",
    ]


async def test_a_session_ends_when_idle_on_logout_and_when_the_account_goes(sessions) -> None:
    async with sessions.begin() as session:
        kari = await add_staff(session, "Kari", "kari@ks.no", "staff", NOW)
        first = await staff_access.open_session(session, kari, "link", NOW)
        second = await staff_access.open_session(session, kari, "link", NOW)
        third = await staff_access.open_session(session, kari, "oidc", NOW)
    idle = staff_access.SESSION_IDLE
    async with sessions.begin() as session:
        live = await staff_access.signed_in(session, first.cookie, NOW + idle)
        assert live is not None and live.csrf_token == first.csrf_token
        # touched: idle counts from the last request
        assert await staff_access.signed_in(session, first.cookie, NOW + 2 * idle) is not None
        assert await staff_access.signed_in(session, second.cookie, NOW + 2 * idle) is None
        assert await staff_access.signed_in(session, second.cookie, NOW) is None  # ended
        assert await staff_access.signed_in(session, "forged", NOW) is None
        await staff_access.end_session(session, live.session_id, NOW + 2 * idle)
        assert await staff_access.signed_in(session, first.cookie, NOW + 2 * idle) is None
        await deactivate(session, kari, NOW)
        assert await staff_access.signed_in(session, third.cookie, NOW) is None


async def test_api_tokens_are_revocable(sessions) -> None:
    async with sessions.begin() as session:
        kari = await add_staff(session, "Kari", "kari@ks.no", "viewer", NOW)
        issued = await staff_access.issue(session, kari, "api", NOW, ttl=None, label="Power BI")
    async with sessions.begin() as session:
        found = await staff_access.api_staff(session, issued.secret, NOW)
        assert found is not None and found.email == "kari@ks.no"
        (token,) = await staff_access.tokens_of(session, found, "api")
        assert await staff_access.revoke(session, token.id, NOW)
        assert not await staff_access.revoke(session, token.id, NOW)
        assert await staff_access.api_staff(session, issued.secret, NOW) is None


async def test_the_audit_log_is_filtered_by_person_action_and_date(sessions) -> None:
    async with sessions.begin() as session:
        kari = await add_staff(session, "Kari", "kari@ks.no", "admin", NOW)
        web = audit.Actor.for_staff(kari, "web")
        audit.record(session, web, "round.close", "round:5", NOW, invited=12)
        audit.record(session, audit.CLI, "contact.add", "contact:9", NOW + timedelta(days=1))
    async with sessions.begin() as session:
        everything = await audit.entries(session, audit.AuditQuery())
        by_kari = await audit.entries(session, audit.AuditQuery(staff_id=kari.id))
        later = await audit.entries(session, audit.AuditQuery(since=NOW + timedelta(hours=1)))
        assert await audit.actions(session) == ["contact.add", "round.close"]
    assert [e.action for e in everything] == ["contact.add", "round.close"]
    assert [(e.staff_name, e.door, e.target, e.detail) for e in by_kari] == [
        ("Kari", "web", "round:5", {"invited": 12})
    ]
    assert [e.actor for e in later] == ["cli"]
