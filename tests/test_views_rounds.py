"""Rounds as the doors read them, on SQLite and PostgreSQL: every round with its counts, the
year overview, one round organisation by organisation, its history, and the next
automatic step (scheduler.status.next_steps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.status import next_steps
from services import publications
from services.response_rate import round_progress
from services.views_publications import publication_rows
from services.views_rounds import (
    Counts,
    StateCounts,
    round_history,
    round_row,
    round_rows,
    round_status,
    year_overview,
)
from tests.views_support import (
    NOW,
    contact,
    event,
    invite,
    make_round,
    publication,
    respond,
)

OSLO = ZoneInfo("Europe/Oslo")
DAY = timedelta(days=1)


async def test_round_rows_count_the_audience_and_responses_by_status(sessions) -> None:
    async with sessions() as session, session.begin():
        first = await make_round(session, "Første", ["3301", "4601", "0301", "1103"])
        second = await make_round(session, "Andre", ["3301"], status="planned", paused=True,
                                  plan_key="2027-2")  # fmt: skip
        await respond(session, first, "3301")
        await respond(session, first, "4601", status="in_progress")
        await respond(session, first, "0301", status="incomplete")
    async with sessions() as session:
        rows = await round_rows(session)
        only = await round_row(session, second)
        with pytest.raises(LookupError, match="no round with id 999"):
            await round_row(session, 999)
    assert [(r.id, r.title, r.organisations, r.submitted, r.in_progress, r.incomplete)
            for r in rows] == [(first, "Første", 4, 1, 1, 1), (second, "Andre", 1, 0, 0, 0)]  # fmt: skip
    assert (only.status, only.paused, only.plan_key, only.survey_key, only.survey_version) == (
        "planned", True, "2027-2", "kvartalsvis-behov", 1,
    )  # fmt: skip
    assert only.audience == {"kind": "orgs", "codes": ["3301"]}


async def test_year_overview_shows_the_years_rounds_open_progress_and_publications(
    sessions,
) -> None:
    async with sessions() as session, session.begin():
        spanning = await make_round(
            session, "Desember–januar", ["3301"], status="closed",
            opens_at=datetime(2026, 12, 1, 8, tzinfo=UTC), closes_at=datetime(2027, 1, 10, 8, tzinfo=UTC),
        )  # fmt: skip
        # Closes 1 January at 00:30 in Oslo: still 2026 in UTC, 2027 on the timeline too.
        new_year = await make_round(
            session, "Nyttår", ["3301"], status="closed",
            opens_at=datetime(2026, 12, 2, tzinfo=UTC),
            closes_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
        )  # fmt: skip
        await make_round(
            session, "I fjor", ["3301"], status="closed",
            opens_at=datetime(2026, 3, 1, tzinfo=UTC), closes_at=datetime(2026, 3, 20, tzinfo=UTC),
        )  # fmt: skip
        current = await make_round(session, "Nå", ["3301", "3303", "4601", "4602", "46"])
        kari = await contact(session, "3303", "Kari", chats=(("telegram", True, NOW),))
        ola = await contact(session, "4602", "Ola", chats=(("teams", True, NOW),))
        await invite(session, current, kari)
        await invite(session, current, ola)
        await respond(session, current, "3301")
        await respond(session, current, "4601", status="in_progress")
        await respond(session, current, "3303", status="in_progress")
        p = [await contact(session, "1103", f"Mottaker {i}") for i in range(5)]
        old = await publication(session, "Gammel", published_at=NOW - 5 * DAY,
                                deliveries=((p[0], "sent", None),))  # fmt: skip
        await publication(session, "Utkast", published_at=None)
        latest = await publication(
            session, "Ny", published_at=NOW - DAY, unreached=2,
            deliveries=((p[0], "sent", None), (p[0], "sent", None), (p[1], "pending", None),
                        (p[2], "failed", "unreachable: blocked"), (p[3], "failed", "400 bad request"),
                        (p[4], "uncertain", None), (p[4], "sent", None)),
        )  # fmt: skip
    async with sessions() as session:
        overview = await year_overview(session, 2027, OSLO, publications=5)
        progress = await round_progress(session, current)
    assert [r.id for r in overview.rounds] == [spanning, new_year, current]
    (live,) = overview.open_rounds
    assert live.round.id == current
    assert live.total == Counts(organisations=5, invited=4, started=3, submitted=1)
    assert live.total == Counts.of(progress.total)
    assert [(c.code, c.name, c.counts) for c in live.counties] == [
        ("33", "Buskerud", Counts(2, 2, 2, 1)),
        ("46", "Vestland", Counts(3, 2, 1, 0)),
    ]
    assert [(m.code, m.county_name, m.invited, m.started) for m in live.missing] == [
        ("3303", "Buskerud", True, True),  # started first, then invited, then the rest
        ("4601", "Vestland", True, True),
        ("4602", "Vestland", True, False),
        ("46", "Vestland", False, False),
    ]
    assert [p.id for p in overview.publications] == [latest, old]  # drafts left out
    delivery = overview.publications[0].delivery
    assert delivery is not None
    assert (delivery.recipients, delivery.delivered, delivery.pending, delivery.unreachable,
            delivery.failed, delivery.uncertain) == (7, 1, 1, 3, 1, 1)  # fmt: skip
    async with sessions() as session:
        report = await publications.delivery_report(session, latest)
    assert (report.recipients, report.delivered, report.pending, len(report.unreachable),
            len(report.failed), len(report.uncertain)) == (7, 1, 1, 3, 1, 1)  # fmt: skip


async def test_publication_rows_list_everything_oldest_first_and_limit_the_latest(sessions) -> None:
    async with sessions() as session, session.begin():
        ids = [await publication(session, f"P{i}", published_at=NOW - i * DAY) for i in range(3)]
        draft = await publication(session, "Utkast", published_at=None)
    async with sessions() as session:
        everything = await publication_rows(session, with_delivery=False)
        latest = await publication_rows(session, published_only=True, limit=2)
    assert [p.id for p in everything] == [*ids, draft]
    assert all(p.delivery is None for p in everything)
    assert [p.id for p in latest] == ids[:2]
    assert latest[0].delivery is not None and latest[0].delivery.recipients == 0


async def test_round_status_puts_each_organisation_in_one_state_with_its_contacts(
    sessions,
) -> None:
    codes = ["3301", "3303", "3305", "4601", "4602", "4611", "4612"]
    async with sessions() as session, session.begin():
        round_id = await make_round(session, "Status", codes)
        answered = await contact(session, "3301", "Svarer", chats=(("telegram", True, NOW),))
        await invite(session, round_id, answered)
        await respond(session, round_id, "3301", contact_id=answered)
        begun = await contact(session, "3303", "Begynt", chats=(("teams", True, NOW),))
        await respond(session, round_id, "3303", status="incomplete", contact_id=begun)
        waiting = await contact(session, "3305", "Venter", chats=(("telegram", True, NOW),))
        await invite(session, round_id, waiting)
        await contact(session, "3305", "Kollega", chats=(("teams", True, NOW),
                               ("telegram", True, NOW - DAY)), preferred="teams")  # fmt: skip
        blocked = await contact(session, "4601", "Blokkert", chats=(("telegram", False, NOW),))
        await invite(session, round_id, blocked)  # invited, then blocked the bot
        await contact(session, "4602", "Ny", chats=(("teams", True, NOW),))  # never invited
        await contact(session, "4611", "Borte", chats=(("telegram", True, NOW),), active=False)
        # 4612: no contact at all
        await event(session, round_id, NOW - 2 * DAY, "opened")
        await event(session, round_id, NOW - DAY, "reminded", count=3)
    async with sessions() as session:
        status = await round_status(session, round_id)
        progress = await round_progress(session, round_id)
        with pytest.raises(LookupError):
            await round_status(session, 999)
    states = {o.code: o.state for o in status.organisations()}
    assert states == {
        "3301": "submitted", "3303": "started", "3305": "invited", "4601": "unreachable",
        "4602": "not_invited", "4611": "unreachable", "4612": "unreachable",
    }  # fmt: skip
    assert status.counts == StateCounts(submitted=1, started=1, invited=1, not_invited=1,
                                        unreachable=3)  # fmt: skip
    assert status.progress == Counts.of(progress.total) == Counts(7, 4, 2, 1)
    assert [(c.code, c.name, c.counts.total) for c in status.counties] == [
        ("33", "Buskerud", 3), ("46", "Vestland", 4),
    ]  # fmt: skip
    by_code = {o.code: o for o in status.organisations()}
    assert by_code["4601"].invited is True and by_code["4601"].reachable is False
    assert (by_code["3301"].answered_by, by_code["3301"].response_status) == ("Svarer", "submitted")
    assert by_code["3303"].response_status == "incomplete" and by_code["3303"].submitted_at is None
    assert [(c.name, c.channel, c.invited) for c in by_code["3305"].contacts] == [
        ("Venter", "telegram", True), ("Kollega", "teams", False),  # the channel set first
    ]  # fmt: skip
    assert by_code["4611"].contacts == ()  # deactivated contacts are no one to reach
    assert [o.code for o in status.organisations("unreachable")] == ["4601", "4611", "4612"]
    assert [(e.action, dict(e.detail)) for e in status.history] == [
        ("opened", {}), ("reminded", {"count": 3}),
    ]  # fmt: skip


async def test_round_history_is_oldest_first_and_empty_for_no_round(sessions) -> None:
    async with sessions() as session, session.begin():
        round_id = await make_round(session, "Historikk", ["3301"])
        await event(session, round_id, NOW, "opened")
        await event(session, round_id, NOW - DAY, "created")  # written later, listed later
    async with sessions() as session:
        events = await round_history(session, round_id)
        assert await round_history(session, 999) == []
    assert [e.action for e in events] == ["opened", "created"]
    assert events[0].at == NOW and events[0].actor == "scheduler"


async def test_next_steps_name_what_the_cycle_does_next_for_each_active_round(sessions) -> None:
    async with sessions() as session, session.begin():
        planned = await make_round(session, "Planlagt", ["3301"], status="planned",
                                   opens_at=NOW + DAY, closes_at=NOW + 20 * DAY)  # fmt: skip
        open_ = await make_round(session, "Åpen", ["3301"], closes_at=NOW + 20 * DAY)
        paused = await make_round(session, "Pause", ["3301"], paused=True)
        cancelled = await make_round(session, "Avlyst", ["3301"], status="cancelled")
    async with sessions() as session:
        steps = await next_steps(session, OSLO, NOW)
    assert cancelled not in steps
    assert (steps[planned].kind, steps[planned].at) == ("open", NOW + DAY)
    assert steps[open_].kind == "remind" and steps[open_].reminder == 1
    assert steps[open_].at.astimezone(OSLO).strftime("%H:%M") == "09:00"
    assert (steps[paused].kind, steps[paused].at) == ("close", NOW + timedelta(days=7))
