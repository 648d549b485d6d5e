"""The Teams adapter's translation both ways, without Teams: activities in, cards out."""

from __future__ import annotations

import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.file_links import ROUTE, file_handler, file_link
from bot.teams import adaptive_card, is_installation, is_removal, render, translate_activity
from dialogs.messages import Attachment, Button, OutgoingMessage
from storage.files import FileStore, store_file

BOT = "28:bot-id"
REFERENCE = {"conversation": {"id": "a:1"}, "serviceUrl": "http://x/"}


def activity(**fields):
    base = {
        "type": "message", "id": "act-1", "channelId": "msteams",
        "conversation": {"id": "a:1;conv", "conversationType": "personal"},
        "from": {"id": "29:user", "aadObjectId": "aad-1", "name": "Kari"},
        "recipient": {"id": BOT},
    }  # fmt: skip
    base.update(fields)
    return base


def test_text_press_and_installation_become_inbound_events() -> None:
    text = translate_activity(activity(text="  /svar \n"), REFERENCE)
    assert text is not None and (text.kind, text.text, text.address) == (
        "text",
        "/svar",
        "a:1;conv",
    )
    assert text.user_id == "aad-1" and text.update_key == "act-1" and text.reference == REFERENCE
    press = translate_activity(activity(text="", value={"payload": "a:q:1"}), REFERENCE)
    assert press is not None and (press.kind, press.payload) == ("press", "a:q:1")
    mention = translate_activity(activity(text="<at>Lyttepost</at> /status"), None)
    assert mention is not None and mention.text == "/status"
    install = activity(type="conversationUpdate", membersAdded=[{"id": BOT}])
    assert is_installation(install, BOT)
    started = translate_activity(install, REFERENCE)
    assert started is not None and started.text == "/start"
    assert translate_activity({"type": "installationUpdate", "action": "add", "id": "i",
                               "conversation": {"id": "a:1"}}, None) is None  # fmt: skip
    menu = translate_activity(activity(text="Svar"), None)
    assert menu is not None and menu.text == "/svar"  # Teams' command menu sends the bare word
    answer = translate_activity(activity(text="svar raskt"), None)
    assert answer is not None and answer.text == "svar raskt"
    other = translate_activity(activity(text="", attachments=[{"contentType": "image/png"}]), None)
    assert other is not None and other.kind == "other"


def test_groups_typing_and_malformed_activities() -> None:
    group = activity(conversation={"id": "19:x", "conversationType": "groupChat"}, text="hei")
    assert translate_activity(group, None) is None
    assert translate_activity(activity(type="typing"), None) is None
    for broken in ([], activity(conversation=None), activity(id=None)):
        with pytest.raises(ValueError):
            translate_activity(broken, None)


def test_removal_is_recognised_both_ways() -> None:
    assert is_removal({"type": "installationUpdate", "action": "remove"}, BOT)
    assert is_removal({"type": "conversationUpdate", "membersRemoved": [{"id": BOT}]}, BOT)
    assert not is_removal({"type": "conversationUpdate", "membersRemoved": [{"id": "29:u"}]}, BOT)
    assert not is_removal(activity(text="hei"), BOT)


def test_choices_render_as_an_adaptive_card_and_plain_text_as_text() -> None:
    message = OutgoingMessage(
        text="Hvor fornøyd er dere?",
        buttons=((Button(label="1", payload="a:f:1"), Button(label="2", payload="a:f:2")),
                 (Button(label="Tilbake", payload="c:back"),)),
    )  # fmt: skip
    card = adaptive_card(message)
    assert card["body"][0] == {"type": "TextBlock", "text": "Hvor fornøyd er dere?", "wrap": True}
    rows = [[a["data"]["payload"] for a in block["actions"]] for block in card["body"][1:]]
    assert rows == [["a:f:1", "a:f:2"], ["c:back"]]
    assert all(a["type"] == "Action.Submit" for b in card["body"][1:] for a in b["actions"])
    rendered = render(message)
    assert rendered.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    plain = render(OutgoingMessage(text="Takk *for* svaret"))
    assert plain.text == "Takk *for* svaret" and plain.text_format == "plain"


def test_card_text_keeps_its_lines_and_long_rows_are_split_for_a_phone() -> None:
    scale = tuple(Button(label=str(n), payload=f"a:s:{n}") for n in range(1, 8))
    message = OutgoingMessage(
        text="Spørsmål 3 · om lag 11 igjen\nHvor viktig?\n\nVelg 1–7.\nNå: 4", buttons=(scale,)
    )
    card = adaptive_card(message)
    blocks = [b for b in card["body"] if b["type"] == "TextBlock"]
    assert [b["text"] for b in blocks] == [
        "Spørsmål 3 · om lag 11 igjen", "Hvor viktig?", "Velg 1–7.", "Nå: 4"
    ]  # fmt: skip
    assert blocks[2].get("spacing") == "medium" and "spacing" not in blocks[3]  # the blank line
    sets = [[a["title"] for a in b["actions"]] for b in card["body"] if b["type"] == "ActionSet"]
    assert sets == [["1", "2", "3", "4", "5"], ["6", "7"]]  # order kept, at most 5 side by side


async def test_file_links_are_signed_expiring_and_served(sessions) -> None:
    async with sessions() as session, session.begin():
        file_id = await store_file(session, "rapport.xlsx", b"PK\x03\x04 rapport")
    app = web.Application()
    app.router.add_get(ROUTE, file_handler(FileStore(sessions), "hemmelig"))
    attachment = Attachment(kind="document", file_id=file_id, filename="rapport.xlsx")
    async with TestClient(TestServer(app)) as client:
        link = file_link(str(client.make_url("/")), "hemmelig", attachment)
        path = link.split("//", 1)[1].split("/", 1)[1]
        response = await client.get("/" + path)
        assert response.status == 200 and await response.read() == b"PK\x03\x04 rapport"
        assert "rapport.xlsx" in response.headers["Content-Disposition"]
        assert (await client.get("/" + path.replace("sig=", "sig=0"))).status == 404
        other_key = file_link(str(client.make_url("/")), "feil", attachment).split("/", 3)[3]
        assert (await client.get("/" + other_key)).status == 404
        expired = file_link(
            str(client.make_url("/")), "hemmelig", attachment, now=time.time() - 61 * 86400
        )
        assert (await client.get("/" + expired.split("/", 3)[3])).status == 404


async def test_a_contact_on_both_channels_is_reached_where_the_admin_says(sessions) -> None:
    from datetime import timedelta

    from services.rounds import latest_chat, reachable_chats
    from services.segments import Segment, resolve_segment
    from storage.orm import Chat, Contact, Organisation
    from tests.cycle_support import World, oslo

    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    contact_id = world.contacts["3301"]
    async with sessions() as session, session.begin():
        session.add(Chat(channel="teams", address="a:teams-1", contact_id=contact_id,
                         user_id="aad", last_seen_at=world.clock.now - timedelta(days=1)))  # fmt: skip

    async def chosen() -> tuple[str, str, str]:
        async with sessions() as session:
            organisation = await session.scalar(select_org())
            round_chat = (await reachable_chats(session, [organisation]))[0][0].channel
            latest = await latest_chat(session, contact_id)
            segment = (await resolve_segment(session, Segment("orgs", "3301")))[0].channel
        assert latest is not None
        return round_chat, latest.channel, str(segment)

    def select_org():
        from sqlalchemy import select

        return select(Organisation.id).where(Organisation.code == "3301")

    assert await chosen() == ("telegram", "telegram", "telegram")  # used last
    async with sessions() as session, session.begin():
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        contact.preferred_channel = "teams"
    assert await chosen() == ("teams", "teams", "teams")  # as the admin set


async def test_teams_gets_charts_inline_and_the_report_as_a_signed_link(sessions) -> None:
    from botbuilder.core import TurnContext  # noqa: F401 - botbuilder is there

    from bot.settings import Settings
    from bot.teams import TeamsTransport
    from bot.teams_auth import build_teams_auth
    from storage.orm import Chat
    from tests.teams_standin import TeamsStandIn

    async with TeamsStandIn() as teams:
        async with sessions() as session, session.begin():
            png = await store_file(session, "figur.png", b"\x89PNG\r\n\x1a\n" + b"0" * 300)
            xlsx = await store_file(session, "rapport.xlsx", b"PK\x03\x04" + b"1" * 300)
            session.add(Chat(channel="teams", address="a:1", user_id="u",
                             conversation_ref=teams.conversation_reference("a:1")))  # fmt: skip
        transport = TeamsTransport(
            build_teams_auth(Settings(_env_file=None)), sessions, FileStore(sessions),
            file_url=lambda a: file_link("https://bot.example.no", "k", a),
        )  # fmt: skip
        photo = Attachment(kind="photo", file_id=png, filename="figur.png", caption="Områder")
        document = Attachment(
            kind="document", file_id=xlsx, filename="rapport.xlsx", caption="Rapporten"
        )
        await transport.deliver("a:1", OutgoingMessage(text="", attachments=(photo,)), None)
        await transport.deliver("a:1", OutgoingMessage(text="", attachments=(document,)), None)
        image, link = teams.messages_for("a:1")
    assert image.text == "Områder" and image.attachments[0]["contentUrl"].startswith(
        "data:image/png;base64,"
    )
    assert link.text.startswith("Rapporten: [rapport.xlsx](https://bot.example.no/files/")
    assert "sig=" in link.text


class _RecordingIntake:
    def __init__(self) -> None:
        self.accepted: list[str] = []

    async def accept(self, raw) -> None:
        self.accepted.append(raw["id"])


def _messages_app(intake: _RecordingIntake, **settings_values) -> web.Application:
    """Only /api/messages, in local mode, with the given settings."""
    from bot.settings import Settings
    from bot.teams import messages_handler
    from bot.teams_auth import build_teams_auth

    settings = Settings(_env_file=None, **settings_values)
    app = web.Application()
    handler = messages_handler(build_teams_auth(settings), intake, settings)  # type: ignore[arg-type]
    app.router.add_post("/api/messages", handler)
    return app


async def test_only_the_allowed_tenants_reach_the_bot(caplog) -> None:
    from bot.settings import Settings
    from bot.teams import tenant_of

    allowed = " KS-Tenant , 46-tenant "
    assert Settings(_env_file=None, teams_allowed_tenants=allowed).allowed_tenants() == {
        "ks-tenant",
        "46-tenant",
    }
    intake = _RecordingIntake()
    async with TestClient(
        TestServer(_messages_app(intake, teams_allowed_tenants=allowed))
    ) as client:
        member = activity(id="ok", channelData={"tenant": {"id": "46-Tenant"}})
        stranger = activity(id="no", channelData={"tenant": {"id": "other-tenant"}})
        nameless = activity(id="none")
        assert (await client.post("/api/messages", json=member)).status == 201
        assert (await client.post("/api/messages", json=stranger)).status == 403
        assert (await client.post("/api/messages", json=nameless)).status == 403
    assert intake.accepted == ["ok"]
    assert "tenant other-tenant is not in TEAMS_ALLOWED_TENANTS" in caplog.text
    assert tenant_of({"conversation": {"tenantId": "ABC"}}) == "abc"


async def test_without_an_allow_list_every_tenant_reaches_the_bot() -> None:
    intake = _RecordingIntake()
    async with TestClient(TestServer(_messages_app(intake))) as client:
        body = activity(id="any", channelData={"tenant": {"id": "whatever"}})
        assert (await client.post("/api/messages", json=body)).status == 201
    assert intake.accepted == ["any"]


def test_the_stored_reference_keeps_the_members_tenant() -> None:
    """botbuilder drops Teams' ``conversation.tenantId`` (it expects ``tenantID``); the
    stored reference must keep it, since sending is paced per tenant."""
    from botbuilder.schema import Activity

    from bot.teams import conversation_reference
    from tests.teams_standin import TeamsStandIn

    teams = TeamsStandIn()
    teams.set_tenant("a:bergen", "Tenant-4601")
    raw = teams.activity_from_user("a:bergen", "message", text="hei")
    parsed = Activity().deserialize(raw)
    assert parsed.conversation.tenant_id is None  # botbuilder's own reading loses it
    reference = conversation_reference(parsed, parsed.serialize())
    assert reference["conversation"]["tenantId"] == "tenant-4601"
    assert reference["serviceUrl"] == teams.service_url


async def test_local_mode_takes_teams_and_the_emulator_and_refuses_other_channels(caplog) -> None:
    intake = _RecordingIntake()
    async with TestClient(TestServer(_messages_app(intake))) as client:
        for channel, expected in (("msteams", 201), ("emulator", 201), ("webchat", 400),
                                  (["msteams"], 400), (None, 400)):  # fmt: skip
            body = activity(id=f"id-{channel}", channelId=channel)
            assert (await client.post("/api/messages", json=body)).status == expected, channel
    assert intake.accepted == ["id-msteams", "id-emulator"]
    assert "Traceback" not in caplog.text


async def test_an_answered_card_is_updated_to_text_or_left_alone_never_sent_again(
    sessions,
) -> None:
    from bot.settings import Settings
    from bot.teams import TeamsTransport
    from bot.teams_auth import build_teams_auth
    from services.delivery import RetryLater
    from storage.orm import Chat
    from tests.teams_standin import TeamsStandIn

    async with TeamsStandIn() as teams:
        async with sessions() as session, session.begin():
            session.add(Chat(channel="teams", address="a:1", user_id="u",
                             conversation_ref=teams.conversation_reference("a:1")))  # fmt: skip
        transport = TeamsTransport(
            build_teams_auth(Settings(_env_file=None)), sessions, FileStore(sessions)
        )
        question = OutgoingMessage(
            text="Spørsmål 1 · om lag 3 igjen\nEnig?",
            buttons=((Button(label="Ja", payload="a:q:ja"),),),
            key="q:q",
        )
        sent_id = await transport.deliver("a:1", question, None)
        assert teams.messages_for("a:1")[0].actions
        answered = OutgoingMessage(text="Enig?\n\n✓ Svar: Ja", replaces="q:q", edit_only=True)
        assert await transport.deliver("a:1", answered, sent_id) == sent_id
        (activity,) = teams.messages_for("a:1")
        assert activity.actions == [] and activity.text == "Enig?\n\n✓ Svar: Ja"
        assert activity.edits
        # Teams refuses the update (gone): left as it is, no copy.
        teams.fail_next(1, 404, operations=["update"])
        assert await transport.deliver("a:1", answered, sent_id) == sent_id
        assert await transport.deliver("a:1", answered, None) == ""
        # Throttled: the sender is told to try the update again later.
        teams.fail_next(1, 429, retry_after=2, operations=["update"])
        with pytest.raises(RetryLater):
            await transport.deliver("a:1", answered, sent_id)
        assert len(teams.messages_for("a:1")) == 1
