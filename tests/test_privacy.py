"""Access and erasure on request, on SQLite and PostgreSQL (docs/decisions/0011).

The "done when" of the privacy issue: a contact who has answered is erased, and then
their access export is empty, the round's export and report still count their
organisation's answers, and nothing in any table (nor, on SQLite, in the database's
files) holds their name, e-mail, chat ids or free text.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from dialogs.messages import OutgoingMessage
from services import lifecycle, privacy
from services.contacts import add_contact
from services.export import round_export
from services.inbound import Inbound
from services.invites import issue_code
from services.publications import create as create_publication
from services.publications import publish
from services.report_data import build_summary
from services.segments import Segment
from services.surveys import SurveyCatalog, register_shipped_surveys
from storage.db import scrub_files
from storage.orm import (
    Base,
    Chat,
    CodeAttempt,
    Contact,
    PrivacyLogEntry,
    Publication,
    Response,
    Round,
    RoundEvent,
    RoundInvitee,
)
from tests.test_conversation import Harness, Member, open_new_round

NAME = "Kari Testesen-Nordvik"
EMAIL = "kari.testesen@drammen.kommune.no"
TELEGRAM_CHAT = "770012345678"
TEAMS_CONVERSATION = "a:1TeamsConversationKari9f8e7d"
TEAMS_USER = "29:1TeamsUserKari4c3b2a"
AAD_OBJECT = "7f6e5d4c-aaaa-bbbb-cccc-kari00000001"
NEED = "Flere sykepleiere til hjemmetjenesten i Vestbyen"
OTHER = "Bedre bredband langs fjorden ved Sjoebyen"
NEEDLES = (NAME, EMAIL, TELEGRAM_CHAT, TEAMS_CONVERSATION, TEAMS_USER, AAD_OBJECT, NEED, OTHER)


class Teams:
    """A Teams chat in the harness: the same conversation use case, a stored reference."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.keys = iter(range(1, 1000))

    async def say(self, text_: str) -> list[OutgoingMessage]:
        reference = {
            "user": {"id": TEAMS_USER, "name": NAME, "aadObjectId": AAD_OBJECT},
            "conversation": {"id": TEAMS_CONVERSATION, "tenantId": "tenant-drammen"},
            "serviceUrl": "https://smba.example/emea/",
        }
        return await self.harness.send(
            Inbound(channel="teams", address=TEAMS_CONVERSATION, user_id=AAD_OBJECT,
                    update_key=f"teams-{next(self.keys)}", kind="text", text=text_,
                    reference=reference)
        )  # fmt: skip


async def answer_everything(kari: Member, round_id: int) -> None:
    await kari.press(f"r:{round_id}")
    await kari.press("t:omrader:helse")
    await kari.press("n:omrader")
    await kari.say(NEED)
    await kari.press("a:omrader.helse.haster:5")
    await kari.press("a:omrader.helse.losning:alene")
    await kari.press("t:fra_ks:kunnskap")
    await kari.press("n:fra_ks")
    await kari.press("a:fornoyd:4")
    await kari.press("a:kontakt:ja")
    await kari.press("a:navngi:ja")
    await kari.say(OTHER)  # "annet"
    await kari.press("c:submit")


@pytest.fixture
async def answered(sessions) -> dict[str, Any]:
    """Kari (Drammen) registered on Telegram and Teams, answered and submitted a round that
    then closed; Per, her colleague, is registered too. Kari paused the round once (as
    admin contacts did in chat before staff accounts), and was unreachable for a broadcast."""
    harness = Harness(sessions)
    now = harness.clock.now
    async with sessions() as session, session.begin():
        await register_shipped_surveys(session)
        kari = await add_contact(session, "3301", NAME, "kommunedirektor", EMAIL)
        per = await add_contact(session, "3301", "Per Hansen", "assistent", None)
        kari_id, per_id = kari.id, per.id

    async def code(contact_id: int) -> str:
        async with sessions() as session, session.begin():
            return (await issue_code(session, contact_id, now, timedelta(days=60))).code

    member = Member(harness, TELEGRAM_CHAT)
    await member.say("/start WRONGCODE1")  # a failed attempt, stored with the chat id
    await member.say(f"/start {await code(kari_id)}")
    await Teams(harness).say(f"/start {await code(kari_id)}")  # codes are single use
    await Member(harness, "550000111").say(f"/start {await code(per_id)}")
    async with sessions() as session, session.begin():  # Kari is unreachable on both for a moment
        await session.execute(
            Chat.__table__.update().where(Chat.contact_id == kari_id).values(unreachable_at=now)
        )
        draft = await create_publication(
            session, kind="broadcast", title="Samling", text="Samling i Drammen.",
            actor=f"contact:{kari_id}", now=now,
        )  # fmt: skip
        await publish(session, draft.id, Segment("orgs", "3301"), actor="test", now=now)
        await session.execute(
            Chat.__table__.update().where(Chat.contact_id == kari_id).values(unreachable_at=None)
        )
    round_id = await open_new_round(harness)
    async with sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        await lifecycle.pause_round(session, round_, now, actor=f"contact:{kari_id}")
        await lifecycle.resume_round(session, round_, now, actor=f"contact:{kari_id}")
    await answer_everything(member, round_id)
    told = await Member(harness, "550000111").press(f"r:{round_id}")  # "Kari has begun..."
    assert NAME in told[0].text
    async with sessions() as session, session.begin():
        round_ = await lifecycle.load_round(session, round_id)
        await lifecycle.close_round(
            session, round_, now, harness.conversation.catalog, actor="test"
        )
    return {"harness": harness, "kari": kari_id, "per": per_id, "round": round_id,
            "publication": draft.id}  # fmt: skip


async def test_the_access_export_holds_everything_about_the_contact(sessions, answered) -> None:
    async with sessions() as session:
        document = await privacy.export_contact(
            session, SurveyCatalog(), answered["kari"], answered["harness"].clock.now
        )
    assert document["status"] == "active"
    assert document["contact"]["name"] == NAME and document["contact"]["email"] == EMAIL
    assert {c["channel"]: c["address"] for c in document["chats"]} == {
        "telegram": TELEGRAM_CHAT, "teams": TEAMS_CONVERSATION,
    }  # fmt: skip
    teams = next(c for c in document["chats"] if c["channel"] == "teams")
    assert teams["conversation_reference"]["user"]["aadObjectId"] == AAD_OBJECT
    assert len(document["invitation_codes"]) == 2
    assert all("hash" not in key for code in document["invitation_codes"] for key in code)
    assert [a["address"] for a in document["code_attempts"]] == [TELEGRAM_CHAT]
    [response] = document["responses"]
    answers = {a["question"]: a["value"] for a in response["answers"]}
    assert answers["omrader.helse.behov"] == NEED and answers["annet"] == OTHER
    assert response["status"] == "submitted"
    [version] = document["submitted_versions"]  # sent in once
    assert version["version"] == 1 and version["answers"]["omrader.helse.behov"] == NEED
    sent = [e["event"].get("text") for e in document["messages_from_contact"]]
    assert NEED in sent and "/start WRONGCODE1" in sent
    assert any(
        NAME in (m["message"] or {}).get("text", "") for m in document["messages_to_contact"]
    )
    assert [p["publication_id"] for p in document["named_in_publications"]] == [
        answered["publication"]
    ]
    assert [r["round_id"] for r in document["rounds_invited"]] == [answered["round"]]


async def test_an_erased_contact_is_gone_and_their_organisations_answers_stay(
    sessions, answered, migrated_url: str
) -> None:
    catalog = SurveyCatalog()
    kari, round_id = answered["kari"], answered["round"]
    now = answered["harness"].clock.now
    async with sessions() as session:
        plan = await privacy.erasure_plan(session, catalog, kari)
    assert plan.status == "active" and plan.chats == 2 and plan.free_text_answers == 2
    async with sessions() as session, session.begin():
        result = await privacy.erase_contact(session, catalog, kari, now, actor="cli:test")
    assert result.to_json() | {"status": "active"} == plan.to_json()  # did what it announced
    scrubbed = await scrub_files(sessions.kw["bind"])
    assert scrubbed.backend != "sqlite" or (scrubbed.vacuumed and scrubbed.wal_truncated)

    async with sessions() as session:
        document = await privacy.export_contact(session, catalog, kari, now)
        assert document["status"] == "erased" and document["contact"] is None
        assert all(document[k] == [] for k in document if isinstance(document[k], list))
        # The round's export and report still count Drammen's answers, linked to no one.
        _, rows = await round_export(session, catalog, round_id)
        summary = await build_summary(session, catalog, round_id)
        [row] = rows
        answers = {a["question"]: a["value"] for a in row["answers"]}
        assert row["org"] == "3301" and row["status"] == "submitted"
        assert row["contact_id"] is None and row["contact_name"] is None
        assert answers["omrader"] == ["helse"] and answers["omrader.helse.haster"] == 5
        assert answers["fornoyd"] == 4 and "omrader.helse.behov" not in answers
        assert summary.participation.submitted == 1
        assert summary.question("fornoyd") is not None
        # The tombstone holds no personal data; the colleague is untouched.
        tombstone = await session.get(Contact, kari)
        assert (tombstone.name, tombstone.role, tombstone.email, tombstone.active) == (
            "", "", None, False,
        )  # fmt: skip
        assert tombstone.erased_at is not None
        assert (await session.get(Contact, answered["per"])).name == "Per Hansen"
        assert await session.scalar(select(Chat.address).where(Chat.contact_id == answered["per"]))
        assert await session.scalar(select(Response.contact_id)) is None
        invitees = set(
            await session.scalars(
                select(RoundInvitee.contact_id).where(RoundInvitee.round_id == round_id)
            )
        )
        assert invitees == {None, answered["per"]}  # Drammen stays invited
        actors = set(await session.scalars(select(RoundEvent.actor)))
        assert f"contact:{kari}" not in actors and privacy.ERASED_ACTOR in actors
        publication = await session.get(Publication, answered["publication"])
        assert publication.created_by == privacy.ERASED_ACTOR
        assert {"org": "3301", "org_name": "Drammen", "contact_id": None, "name": None} in (
            publication.unreached
        )
        [entry] = await session.scalars(
            select(PrivacyLogEntry).where(PrivacyLogEntry.action == "erase")
        )
        assert (entry.actor, entry.contact_id) == ("cli:test", kari)
        assert entry.detail["free_text_answers"] == 2 and entry.detail["chats"] == 2
        # Nothing in any table names them, their chats or what they wrote.
        for table in Base.metadata.sorted_tables:
            for db_row in (await session.execute(select(table))).all():
                shown = repr(tuple(db_row))
                assert not [n for n in NEEDLES if n in shown], (table.name, shown[:300])
        assert await session.scalar(select(CodeAttempt.id)) is None
    if migrated_url.startswith("sqlite"):  # ...nor the database's files
        path = Path(make_url(migrated_url).database or "")
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                data = file.read_bytes()
                assert not [n for n in NEEDLES if n.encode() in data], file


async def test_erasing_twice_and_unknown_contacts(sessions, answered) -> None:
    catalog, now = SurveyCatalog(), answered["harness"].clock.now
    async with sessions() as session, session.begin():
        await privacy.erase_contact(session, catalog, answered["kari"], now, actor="a")
    async with sessions() as session, session.begin():
        again = await privacy.erase_contact(session, catalog, answered["kari"], now, actor="a")
        assert again.status == "already_erased"
        with pytest.raises(LookupError):
            await privacy.erase_contact(session, catalog, 999_999, now, actor="a")
        unknown = await privacy.export_contact(session, catalog, 999_999, now)
        assert unknown["status"] == "unknown" and unknown["contact"] is None
    async with sessions() as session:
        erasures = await session.scalar(
            select(func.count()).where(PrivacyLogEntry.action == "erase")
        )
    assert erasures == 1


async def test_the_only_contact_of_an_organisation_can_be_erased_and_a_colleague_takes_over(
    sessions,
) -> None:
    """Erasing someone mid-answer leaves the organisation's response for a colleague."""
    harness = Harness(sessions)
    now = harness.clock.now
    async with sessions() as session, session.begin():
        await register_shipped_surveys(session)
        kari = await add_contact(session, "3301", NAME, "kommunedirektor", EMAIL)
        code = (await issue_code(session, kari.id, now, timedelta(days=60))).code
        kari_id = kari.id
    member = Member(harness, TELEGRAM_CHAT)
    await member.say(f"/start {code}")
    round_id = await open_new_round(harness)
    await member.press(f"r:{round_id}")
    await member.press("t:omrader:helse")
    await member.press("n:omrader")
    await member.say(NEED)
    async with sessions() as session, session.begin():
        await privacy.erase_contact(session, SurveyCatalog(), kari_id, now, actor="t")
    assert "ikke registrert" in " ".join(m.text for m in await member.say("/svar"))
    async with sessions() as session, session.begin():
        per = await add_contact(session, "3301", "Per Hansen", "assistent", None)
        code = (await issue_code(session, per.id, now, timedelta(days=60))).code
        per_id = per.id
    colleague = Member(harness, "550000111")
    await colleague.say(f"/start {code}")
    replies = await colleague.press(f"r:{round_id}")
    assert "allerede begynt" not in " ".join(m.text for m in replies)
    async with sessions() as session:
        response = await session.scalar(select(Response))
        assert response.contact_id == per_id
        assert response.state["answers"]["omrader"] == ["helse"]
        assert "omrader.helse.behov" not in response.state["answers"]
        assert (await session.get(Round, round_id)).status == "open"
