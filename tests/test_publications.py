"""Results back to members, on SQLite and PostgreSQL: segments, drafts, previews, publishing
(once per recipient), a round's summary with its files, notices in /arshjul, delivery reports,
and a broadcast that survives its sender dying halfway."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from reports.disclosure import rule_text
from services import publications
from services.delivery import Pacing, RecipientUnreachable, Sender
from services.personal import personalise_for
from services.segments import Segment, SegmentError, resolve_segment
from services.summaries import draft_summary
from storage import outbox
from storage.orm import Contact, OutboxMessage, Publication
from tests.cycle_support import ZONE, World, oslo
from tests.test_delivery import RecordingTransport

ORGS = [
    "3301",
    "3303",
    "4601",
    "46",
    "1103",
    "0301",
]  # Drammen, Kongsberg, Bergen, Vestland, Stavanger, Oslo


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(ORGS)
    async with sessions() as session, session.begin():  # a second contact without a chat
        from services.contacts import add_contact

        await add_contact(session, "4601", "Uten Chat", "ordforer", None)
    return world


async def resolve(world: World, text: str) -> list[tuple[str, bool]]:
    async with world.sessions() as session:
        recipients = await resolve_segment(session, Segment.parse(text))
    return sorted((r.org_code, r.reachable) for r in recipients)


async def closed_round(world: World) -> int:
    round_id = await world.make_round("Behov Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-11 09:05"))
    for code in ("3301", "4601", "46"):
        await world.answer(code, round_id)
    await world.answer("3303", round_id, questions=2)
    await world.run_until(oslo("2027-02-01 09:00"))
    return round_id


async def test_segments_resolve_to_the_right_contacts(world: World) -> None:
    assert len(await resolve(world, "all")) == 7
    assert await resolve(world, "fylke:46") == [("46", True), ("4601", False), ("4601", True)]
    assert await resolve(world, "kind:fylkeskommune") == [("0301", True), ("46", True)]
    assert ("0301", True) in await resolve(world, "kind:kommune")  # Oslo is both
    assert await resolve(world, "role:ordforer") == [("4601", False)]
    assert await resolve(world, "orgs:3301,46") == [("3301", True), ("46", True)]
    round_id = await closed_round(world)
    assert await resolve(world, f"respondents:{round_id}") == [
        ("3301", True), ("46", True), ("4601", False), ("4601", True)
    ]  # fmt: skip
    non = await resolve(world, f"non-respondents:{round_id}")
    assert {code for code, _ in non} == {"3303", "1103", "0301"}
    assert len({code for code, _ in await resolve(world, f"invited:{round_id}")}) == 6


def test_segments_are_read_with_clear_errors() -> None:
    assert Segment.parse("svarte:3") == Segment("respondents", "3")
    assert Segment.parse("fylke:3") == Segment("county", "03")
    for bad in ("everyone", "county:", "respondents:x", "kind:by", "county:123"):
        with pytest.raises(SegmentError):
            Segment.parse(bad)


async def test_unknown_codes_and_empty_counties_are_errors(world: World) -> None:
    with pytest.raises(SegmentError, match="9999"):
        await resolve(world, "orgs:3301,9999")
    with pytest.raises(SegmentError, match="county 99"):
        await resolve(world, "county:99")


async def test_publishing_queues_one_delivery_per_reachable_recipient_once(world: World) -> None:
    async with world.sessions() as session, session.begin():
        draft = await publications.create(
            session, kind="broadcast", title="Hei", text="Hei fra KS", actor="test",
            now=world.clock.now, segment=Segment.parse("county:46"),
        )  # fmt: skip
    async with world.sessions() as session, session.begin():
        reached = await publications.publish(
            session, draft.id, Segment.parse("county:46"), actor="test", now=world.clock.now
        )
    assert sorted(r.org_code for r in reached.reachable) == ["46", "4601"]
    assert [r.contact_name for r in reached.unreachable] == ["Uten Chat"]
    async with world.sessions() as session, session.begin():
        with pytest.raises(publications.PublicationError, match="allerede sendt"):
            await publications.publish(
                session, draft.id, Segment("all"), actor="test", now=world.clock.now
            )
    rows = await world.of_kind("broadcast")
    assert Counter(s.address for s in rows) == {"chat-46": 1, "chat-4601": 1}
    async with world.sessions() as session:
        report = await publications.delivery_report(session, draft.id)
    assert (report.recipients, report.delivered, report.pending) == (3, 0, 2)
    assert [u["name"] for u in report.unreachable] == ["Uten Chat"]


async def test_a_round_summary_goes_out_with_charts_documents_and_own_answers(world: World) -> None:
    round_id = await closed_round(world)
    async with world.sessions() as session, session.begin():
        draft = await draft_summary(session, round_id, ZONE, actor="test", now=world.clock.now)
    assert draft.kind == "summary" and draft.round_id == round_id and draft.status == "draft"
    assert "3 av 6" in draft.text or "av 371" in draft.text
    kinds = [a["kind"] for a in draft.attachments]
    # three answers: every figure but participation rests on fewer than five organisations
    # and is hidden, so only the participation chart is drawn
    assert kinds == ["photo", "document", "document"]
    assert {a["filename"].rsplit(".", 1)[-1] for a in draft.attachments} == {"png", "xlsx", "pdf"}

    async with world.sessions() as session, session.begin():
        await publications.edit_text(
            session, draft.id, draft.text + "\n\nHilsen KS", actor="test", now=world.clock.now
        )
        queued = await publications.preview(
            session, draft.id, world.contacts["1103"], now=world.clock.now,
            personalise=personalise_for(ZONE),
        )  # fmt: skip
    preview = await world.of_kind("preview")
    assert queued == len(preview) == 4  # text + 1 chart + 2 documents; 1103 did not answer
    assert preview[0].message.text.endswith("Hilsen KS")

    async with world.sessions() as session, session.begin():
        await publications.publish(
            session, draft.id, Segment("invited", str(round_id)), actor="test",
            now=world.clock.now, personalise=personalise_for(ZONE),
        )  # fmt: skip
    sent = await world.of_kind("summary")
    per_chat = Counter(s.address for s in sent)
    assert per_chat == {"chat-3301": 5, "chat-4601": 5, "chat-46": 5,  # + their own answers
                        "chat-3303": 4, "chat-1103": 4, "chat-0301": 4}  # fmt: skip
    own = [s for s in sent if s.address == "chat-4601"][-1].message.text
    assert own.startswith("Svarene fra Bergen sammenlignet med landet, fylket")
    assert "Landet: –" in own and "Vestland: –" in own  # three answers: nothing to share
    assert own.endswith(rule_text())
    await world.say("1103", "/arshjul")
    wheel = (await world.messages("1103"))[-1].message.text
    assert "Oppsummering: Behov Q1" in wheel


async def test_a_summary_waits_for_the_round_to_close(world: World) -> None:
    round_id = await world.make_round("Behov Q1", "2027-01-11 09:00", "2027-01-29 23:59")
    await world.run_until(oslo("2027-01-12 09:00"))
    async with world.sessions() as session, session.begin():
        with pytest.raises(publications.PublicationError, match="ikke stengt"):
            await draft_summary(session, round_id, ZONE, actor="test", now=world.clock.now)


async def test_dissemination_notices_are_listed_under_their_round(world: World) -> None:
    round_id = await closed_round(world)
    async with world.sessions() as session, session.begin():
        notice = await publications.create(
            session, kind="notice", title="Dette gjør KS med innspillene deres",
            text="KS starter et nettverk for digital samhandling.", actor="test",
            now=world.clock.now, round_id=round_id,
        )  # fmt: skip
        await publications.publish(
            session, notice.id, Segment("all"), actor="test", now=world.clock.now
        )
    await world.say("3301", "/arshjul")
    wheel = (await world.messages("3301"))[-1].message.text
    assert "– Dette gjør KS med innspillene deres (1. februar 2027)" in wheel


async def test_a_blocked_recipient_shows_as_unreachable_in_the_report(sessions) -> None:
    world = World(sessions, oslo("2026-01-05 08:00"))  # in the past: due for the real sender
    await world.setup(ORGS)
    async with world.sessions() as session, session.begin():
        draft = await publications.create(
            session, kind="broadcast", title="Hei", text="Hei", actor="test", now=world.clock.now
        )
        await publications.publish(
            session, draft.id, Segment.parse("orgs:3301,46"), actor="test", now=world.clock.now
        )
    transport = RecordingTransport(failures={"chat-46": [RecipientUnreachable("blocked")]})
    sender = Sender(world.sessions, {"telegram": transport}, Pacing(per_second=100))
    await sender.drain()
    async with world.sessions() as session:
        report = await publications.delivery_report(session, draft.id)
    assert report.delivered == 1 and report.pending == 0
    assert [(u["org"], u["name"]) for u in report.unreachable] == [("46", "Leder 46")]


async def test_a_broadcast_survives_its_sender_dying_halfway(sessions) -> None:
    """Kill the sender mid-broadcast (its sends in flight are cut off), start another:
    every recipient gets the broadcast exactly once, except any message cut off in
    flight, which is reported as uncertain and never repeated."""
    world = World(sessions, oslo("2026-01-05 08:00"))  # in the past: due for the real sender
    codes = [f"{n:04d}" for n in (1101, 1103, 1106, 1108, 1111, 1112, 1114, 1119, 1120, 1121,
                                  1122, 1124, 1127, 1130, 1133, 1134, 1135, 1144, 1145, 1146)]  # fmt: skip
    await world.setup(codes)
    async with world.sessions() as session, session.begin():
        draft = await publications.create(
            session, kind="broadcast", title="Hei", text="Viktig melding", actor="test",
            now=world.clock.now,
        )  # fmt: skip
        await publications.publish(
            session, draft.id, Segment("all"), actor="test", now=world.clock.now
        )
    transport = RecordingTransport()
    first = Sender(sessions, {"telegram": transport}, Pacing(per_second=40.0), poll_interval=0.05)
    task = asyncio.create_task(first.run())
    for _ in range(400):
        if len(transport.sent) >= 8:
            break
        await asyncio.sleep(0.01)
    task.cancel()  # a crash: no stop(), sends in flight are cut off
    await asyncio.gather(task, return_exceptions=True)
    for pending_send in list(first._tasks):  # noqa: SLF001 - the crash takes them too
        pending_send.cancel()
    await asyncio.sleep(0.05)
    async with sessions() as session, session.begin():  # a minute later, a new process
        await outbox.release_stale_claims(session, world.clock.now + timedelta(days=365))
    second = Sender(sessions, {"telegram": transport}, Pacing(per_second=200.0))
    await second.drain()
    counts = Counter(address for address, _, _ in transport.sent)
    assert max(counts.values()) == 1, "nobody gets it twice"
    async with sessions() as session:
        report = await publications.delivery_report(session, draft.id)
        statuses = dict((await session.execute(
            select(OutboxMessage.address, OutboxMessage.status).where(OutboxMessage.publication_id == draft.id)
        )).all())  # fmt: skip
    missing = {f"chat-{c}" for c in codes} - set(counts)
    uncertain = {f"chat-{u['org']}" for u in report.uncertain}
    assert missing <= uncertain, "a recipient without the message is reported as uncertain"
    assert {statuses[a] for a in uncertain} == ({"interrupted"} if uncertain else set())
    assert {a for a, status in statuses.items() if status == "sent"} <= set(counts)
    assert report.delivered + len(uncertain) == len(codes) and len(uncertain) <= 5


async def test_a_preview_needs_a_reachable_chat(world: World) -> None:
    async with world.sessions() as session, session.begin():
        draft = await publications.create(
            session, kind="broadcast", title="Hei", text="Hei", actor="test", now=world.clock.now
        )
        without_chat = await session.scalar(select(Contact.id).where(Contact.name == "Uten Chat"))
        assert without_chat is not None
        assert await publications.preview(session, draft.id, without_chat, now=world.clock.now) == 0
        with pytest.raises(publications.PublicationError):
            await publications.create(
                session, kind="broadcast", title="Tom", text="  ", actor="test", now=world.clock.now
            )
    async with world.sessions() as session:
        assert len((await session.scalars(select(Publication))).all()) == 1
