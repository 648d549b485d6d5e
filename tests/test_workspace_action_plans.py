"""«Til oppfølging» on the workspace's overview: the signed-in staff member's due
dissemination steps, with the action and what to do; gone once the step's notice is sent."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services import action_plans, audit
from services.staff import by_email
from tests.action_plans_support import ks_action, link_need
from tests.views_support import make_round
from tests.workspace_support import WorkspaceSite, workspace_site

ZONE = ZoneInfo("Europe/Oslo")
ACTOR = audit.Actor("test", "web")


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def staff_id(site: WorkspaceSite, email: str) -> int:
    async with site.sessions() as session:
        staff = await by_email(session, email)
        assert staff is not None
        return staff.id


async def test_the_overview_lists_the_visitors_due_steps_until_their_notice_is_sent(
    site: WorkspaceSite,
) -> None:
    kari = await site.signed_in("Kari Rådgiver", "kari@ks.no", "staff")
    per = await site.signed_in("Per Rådgiver", "per@ks.no", "viewer")
    karis, pers = await staff_id(site, "kari@ks.no"), await staff_id(site, "per@ks.no")
    now = datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    async with site.sessions.begin() as session:
        round_id = await make_round(session, "Behov", ["3301", "4601"], status="closed")
        action = await ks_action(session, "Heltidskultur <i>nå</i>")
        await link_need(session, action, round_id, "3301", "need_1")
        await link_need(session, action, round_id, "4601", "need_1")
        other = await ks_action(session, "Digital samhandling")
        future = await ks_action(session, "Lederutvikling")
        due = await action_plans.add_step(
            session, action, staff_id=karis, channel="KS-nettverk for kommunedirektører",
            description="Del erfaringene fra pilotkommunene.", due_on=today - timedelta(days=1),
            actor=ACTOR, now=now,
        )  # fmt: skip
        await action_plans.add_step(
            session, other, staff_id=pers, channel="nyhetsbrev", due_on=today,
            actor=ACTOR, now=now,
        )  # fmt: skip
        await action_plans.add_step(
            session, future, staff_id=karis, channel="nyhetsbrev",
            due_on=today + timedelta(days=3), actor=ACTOR, now=now,
        )  # fmt: skip

    page = await kari.get("/")
    text = html.unescape(await page.text())
    assert page.status == 200
    assert "Til oppfølging" in text
    assert "Heltidskultur <i>nå</i>" in text  # escaped in the page, never markup
    assert "<i>nå</i>" not in await page.text()
    assert (
        "Del resultater og erfaringer fra tiltaket via KS-nettverk for kommunedirektører. "
        "Del erfaringene fra pilotkommunene." in text
    )
    assert "de 2 organisasjonene" in text and f"plan notify {due.id}" in text
    assert "Digital samhandling" not in text and "Lederutvikling" not in text

    pers_page = html.unescape(await (await per.get("/")).text())
    assert "Til oppfølging" in pers_page and "Digital samhandling" in pers_page
    assert "Heltidskultur" not in pers_page

    async with site.sessions.begin() as session:
        await action_plans.send_dissemination_notice(
            session, due.id, "Rapporten er klar.", actor=ACTOR, now=now
        )
    after = html.unescape(await (await kari.get("/")).text())
    assert "Til oppfølging" not in after and "Heltidskultur" not in after


async def test_no_box_for_someone_with_nothing_due(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada Admin", "ada@ks.no", "admin")
    page = await admin.get("/")
    assert page.status == 200 and "Til oppfølging" not in await page.text()
