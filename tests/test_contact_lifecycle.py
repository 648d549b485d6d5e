"""Contacts' life cycle on both databases: listing, deactivation (no more outreach, history
kept), and a Teams removal that forgets the conversation, not only marks it unreachable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botbuilder.schema import Activity
from sqlalchemy import select

from bot.teams import TeamsIntake
from services.contacts import (
    activate_contact,
    add_contact,
    deactivate_contact,
    pending_contacts,
)
from services.inbound import Inbound
from services.invites import issue_code
from services.rounds import Audience
from services.segments import Segment, resolve_segment
from services.views_members import contact_rows
from storage import outbox
from storage.orm import Chat, Invitation, OutboxMessage, Response
from tests.cycle_support import World, oslo
from tests.test_conversation import Harness, text_of


async def test_a_deactivated_contact_gets_no_outreach_and_a_colleague_carries_on(sessions) -> None:
    world = World(sessions, start=oslo("2027-01-04 08:00"))
    await world.setup(["3301", "4601"])
    leader = world.contacts["3301"]
    async with sessions() as session, session.begin():
        colleague = await add_contact(session, "3301", "Per Hansen", "assistent", None)
        session.add(Chat(channel="telegram", address="chat-per", contact_id=colleague.id,
                         user_id="per", last_seen_at=world.clock.now))  # fmt: skip
        colleague_id = colleague.id
    round_id = await world.make_round(
        "Behov Q1", "2027-01-11 09:00", "2027-01-29 23:59",
        audience=Audience(org_codes=("3301", "4601")),
    )  # fmt: skip
    await world.run_until(oslo("2027-01-12 10:00"))
    await world.answer("3301", round_id, questions=8, submit=False)  # the leader starts
    async with sessions() as session, session.begin():
        await issue_code(session, leader, world.clock.now, timedelta(days=60))  # a spare code
        await outbox.enqueue(  # and a message still queued for them
            session, outbox.Recipient("telegram", "chat-3301", leader),
            [world_message()], kind="broadcast", priority=outbox.PRIORITY_BULK,
        )  # fmt: skip
        result = await deactivate_contact(session, leader, world.clock.now)
    assert (result.chats_unbound, result.codes_revoked) == (1, 1)
    assert result.messages_withdrawn >= 1  # the broadcast (and, here, unsent dialog replies)

    async with sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.address == "chat-3301"))
        assert chat.contact_id is None and chat.active_response_id is None
        assert await session.scalar(
            select(Invitation.revoked_at).where(Invitation.contact_id == leader)
        ) is not None  # fmt: skip
        response = await session.scalar(select(Response).where(Response.round_id == round_id))
        assert response.contact_id == leader  # history kept
        withdrawn = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "broadcast")
        )
        assert withdrawn.status == "failed" and withdrawn.last_error.startswith("unreachable")
        assert leader not in [c.id for c in await pending_contacts(session, world.clock.now)]
        everyone = await resolve_segment(session, Segment("all"))
        assert leader not in {r.contact_id for r in everyone}
        listed = {c.id: c for c in await contact_rows(session, world.clock.now, org_code="3301")}
        assert listed[leader].active is False and listed[leader].chats == ()
        assert listed[colleague_id].chats[0].channel == "telegram"

    await world.run_until(oslo("2027-01-22 12:00"))  # the reminder 7 days before the deadline
    reminded = {s.address for s in await world.of_kind("reminder", round_id)}
    assert reminded == {"chat-per", "chat-4601"}
    await world.say("3301", "/svar")
    assert "ikke registrert" in (await world.messages("3301"))[-1].message.text
    async with sessions() as session, session.begin():  # a code for them binds nothing
        late = (await issue_code(session, leader, world.clock.now, timedelta(days=60))).code
    await world.say("3301", f"/start {late}")
    assert "kjenner jeg ikke igjen" in (await world.messages("3301"))[-1].message.text

    # The colleague carries on with Drammen's response (its author is gone).
    await world._inbound("per", kind="press", payload=f"r:{round_id}")  # noqa: SLF001
    async with sessions() as session:
        response = await session.scalar(select(Response).where(Response.round_id == round_id))
        assert response.contact_id == colleague_id and response.state["answers"]

    async with sessions() as session, session.begin():
        assert await activate_contact(session, leader) is True
        assert await activate_contact(session, leader) is False
    await world.say("3301", f"/start {late}")  # active again: a code binds their chat again
    assert "Velkommen, Leder 3301" in (await world.messages("3301"))[-2].message.text


def world_message():
    from dialogs.messages import OutgoingMessage

    return OutgoingMessage(text="Samling i Drammen.")


async def test_removing_the_teams_app_forgets_the_conversation(sessions) -> None:
    harness = Harness(sessions)
    async with sessions() as session, session.begin():
        from services.surveys import register_shipped_surveys

        await register_shipped_surveys(session)
        kari = await add_contact(session, "3301", "Kari Nordmann", "kommunedirektor", None)
        code = (await issue_code(session, kari.id, harness.clock.now, timedelta(days=60))).code
    conversation = "a:1RemovedConversation"
    reference = {"user": {"id": "29:kari", "name": "Kari Nordmann", "aadObjectId": "aad-kari"},
                 "conversation": {"id": conversation, "tenantId": "t"},
                 "serviceUrl": "https://smba.example/"}  # fmt: skip

    async def say(text: str, key: str) -> str:
        return text_of(await harness.send(Inbound(
            channel="teams", address=conversation, user_id="aad-kari", update_key=key,
            kind="text", text=text, reference=reference,
        )))  # fmt: skip

    assert "Velkommen, Kari Nordmann" in await say(f"/start {code}", "1")
    async with sessions() as session, session.begin():
        await outbox.enqueue(
            session,
            outbox.Recipient("teams", conversation, kari.id),
            [world_message()],
            kind="broadcast",
            priority=outbox.PRIORITY_BULK,
        )

    intake = TeamsIntake(processor=None, sessions=sessions)  # type: ignore[arg-type]
    removal = {
        "type": "installationUpdate", "action": "remove", "id": "r1", "channelId": "msteams",
        "serviceUrl": "https://smba.example/",
        "conversation": {"id": conversation, "conversationType": "personal"},
        "from": {"id": "29:kari", "aadObjectId": "aad-kari", "name": "Kari Nordmann"},
        "recipient": {"id": "28:bot"},
    }  # fmt: skip
    await intake.accept(Activity().deserialize(removal))
    await intake.accept(Activity().deserialize({**removal, "type": "conversationUpdate",
                                                "membersRemoved": [{"id": "28:bot"}]}))  # fmt: skip
    async with sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.channel == "teams"))
        assert chat.address == f"removed:{chat.id}" and chat.contact_id == kari.id
        assert chat.conversation_ref is None and chat.user_id is None
        assert chat.unreachable_at is not None
        queued = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "broadcast")
        )
        assert queued.status == "failed" and queued.last_error.startswith("unreachable")
    # Installing the app again is a new registration.
    assert "invitasjonskoden" in await say("/start", "2")


async def test_contacts_list_filters_by_organisation(sessions) -> None:
    async with sessions() as session, session.begin():
        await add_contact(session, "3301", "Kari Nordmann", "kommunedirektor", "k@d.no")
        await add_contact(session, "4601", "Ola Bergen", "byradsleder", None)
    async with sessions() as session:
        everyone = await contact_rows(session, datetime.now(UTC))
        drammen = await contact_rows(session, datetime.now(UTC), org_code="3301")
    assert [c.org_code for c in everyone] == ["3301", "4601"]
    assert [(c.name, c.email, c.active, c.chats) for c in drammen] == [
        ("Kari Nordmann", "k@d.no", True, ())
    ]
