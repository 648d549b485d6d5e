"""The Bot Connector stand-in, driven by the real botbuilder client and a real CloudAdapter.

The Teams adapter's tests and benchmarks trust the stand-in to behave like Teams, so these
check that botbuilder's requests are understood, that its exceptions come out of our
answers (and how: see the 429 tests, they document what the adapter must catch), and that
the member side posts activities that botbuilder's CloudAdapter accepts and dispatches.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientSession, web
from botbuilder.core import (
    ActivityHandler,
    BotAdapter,
    CardFactory,
    MessageFactory,
    TurnContext,
)
from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    CardAction,
    ChannelAccount,
    ConversationParameters,
    ErrorResponseException,
    SuggestedActions,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials, MicrosoftAppCredentials
from msrest.exceptions import ClientRequestError, HttpOperationError

from tests.teams_standin import ADAPTIVE_CARD, TeamsStandIn

PERSONAL = "a:1pL6i0oY3C0K8oAj8-Xy_z"
CHANNEL_THREAD = "19:d7c1e0f2a9b84c6e@thread.tacv2;messageid=1700000000000"
ODD = "29:1Ab+c/d=e?f#g%h&i j"  # base64-ish ids can hold '+', '/', '='; plus URL specials

QUESTION_CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Har kommunen behov for bistand?", "wrap": True},
        {
            "type": "Input.ChoiceSet",
            "id": "choice",
            "choices": [{"title": "Stort", "value": "3"}, {"title": "Lite", "value": "1"}],
        },
        {
            "type": "ActionSet",
            "actions": [{"type": "Action.Submit", "title": "Vet ikke", "data": {"q": 1, "a": "?"}}],
        },
    ],
    "actions": [
        {"type": "Action.Submit", "title": "Ja", "data": {"q": 1, "a": "ja"}},
        {"type": "Action.Submit", "title": "Nei", "data": {"q": 1, "a": "nei"}},
    ],
}


class StaticToken(AppCredentials):
    """Credentials with a fixed bearer token: no login service needed."""

    def __init__(self, token: str) -> None:
        super().__init__(app_id="lyttepost-test-app")
        self.token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.token


class BotEndpoint:
    """A tiny aiohttp app in the bot's place: records what the stand-in posts to it."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.status = 200
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        return web.Response(status=self.status)

    @property
    def activities(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw, _ in self.received]

    async def __aenter__(self) -> BotEndpoint:
        app = web.Application()
        app.router.add_post("/api/messages", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/api/messages"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def teams() -> AsyncIterator[TeamsStandIn]:
    async with TeamsStandIn() as standin:
        yield standin
        assert standin.errors == []  # no request made the stand-in itself fail


@pytest.fixture
async def client(teams: TeamsStandIn) -> AsyncIterator[ConnectorClient]:
    """botbuilder's connector as CloudAdapter builds it in local mode (empty app id)."""
    async with ConnectorClient(MicrosoftAppCredentials.empty(), base_url=teams.service_url) as c:
        yield c


def text(value: str) -> Activity:
    return Activity(type="message", text=value)


# --- the bot's side: botbuilder's ConnectorClient --------------------------------------------


async def test_send_reply_update_delete_are_recorded(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    sent = await client.conversations.send_to_conversation(PERSONAL, text("Hei!"))
    reply = await client.conversations.reply_to_activity(PERSONAL, sent.id, text("Svar"))
    updated = await client.conversations.update_activity(
        PERSONAL, sent.id, Activity(type="message", id=sent.id, text="Hei igjen!")
    )
    await client.conversations.delete_activity(PERSONAL, reply.id)

    assert updated.id == sent.id and reply.id != sent.id
    first, second = teams.messages_for(PERSONAL)
    assert (first.activity_id, first.type, first.via, first.reply_to_id) == (
        sent.id,
        "message",
        "send",
        None,
    )
    assert first.text == "Hei igjen!" and [v.text for v in first.history] == ["Hei!", "Hei igjen!"]
    assert len(first.edits) == 1 and not first.deleted
    assert (second.via, second.reply_to_id, second.text, second.deleted) == (
        "reply",
        sent.id,
        "Svar",
        True,
    )
    assert first.authorization is None and not first.authorized  # local mode: no token
    assert [(c.method, c.operation, c.status) for c in teams.calls] == [
        ("POST", "send", 201),
        ("POST", "reply", 201),
        ("PUT", "update", 200),
        ("DELETE", "delete", 200),
    ]
    assert all(c.conversation_id == PERSONAL for c in teams.calls)
    assert teams.calls[0].path == f"/v3/conversations/{PERSONAL}/activities"
    assert (teams.stats.sent, teams.stats.updated, teams.stats.deleted) == (2, 1, 1)
    # A deleted activity cannot be updated or deleted again.
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.delete_activity(PERSONAL, reply.id)
    assert caught.value.response.status_code == 404


async def test_adaptive_card_and_suggested_actions(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    card = MessageFactory.attachment(CardFactory.adaptive_card(QUESTION_CARD))
    card.suggested_actions = SuggestedActions(
        actions=[CardAction(type="imBack", title="Hjelp", value="hjelp")]
    )
    sent = await client.conversations.send_to_conversation(PERSONAL, card)

    recorded = await teams.wait_for_activity(PERSONAL, lambda a: a.card is not None)
    assert recorded.activity_id == sent.id and recorded.text is None
    assert recorded.attachments[0]["contentType"] == ADAPTIVE_CARD
    assert recorded.card == QUESTION_CARD
    assert recorded.card_texts == ["Har kommunen behov for bistand?", "Stort", "Lite"]
    assert [title for title, _ in recorded.actions] == ["Vet ikke", "Ja", "Nei"]
    assert recorded.action_data("Nei") == {"q": 1, "a": "nei"}
    with pytest.raises(LookupError):
        recorded.action_data("Kanskje")
    assert recorded.suggested_titles == ["Hjelp"]
    # Updating the card (e.g. to show the chosen answer) keeps both versions.
    answered = dict(QUESTION_CARD, actions=[])
    update = MessageFactory.attachment(CardFactory.adaptive_card(answered))
    update.id = sent.id
    await client.conversations.update_activity(PERSONAL, sent.id, update)
    assert recorded.card == answered and recorded.history[0].attachments[0]["content"] == QUESTION_CARD  # fmt: skip


@pytest.mark.parametrize("conversation_id", [PERSONAL, CHANNEL_THREAD, ODD])
async def test_ids_with_special_characters(
    teams: TeamsStandIn, client: ConnectorClient, conversation_id: str
) -> None:
    """msrest percent-encodes path ids (':' ';' '@' '/' ...); the stand-in decodes each
    segment, and its own activity ids ("1:...") go back through the same encoding."""
    sent = await client.conversations.send_to_conversation(conversation_id, text("hei"))
    assert ":" in sent.id
    reply = await client.conversations.reply_to_activity(conversation_id, sent.id, text("svar"))
    await client.conversations.update_activity(
        conversation_id, reply.id, Activity(type="message", id=reply.id, text="svar 2")
    )
    await client.conversations.delete_activity(conversation_id, sent.id)
    assert [c.status for c in teams.calls] == [201, 201, 200, 200]
    assert {c.conversation_id for c in teams.calls} == {conversation_id}
    assert [c.activity_id for c in teams.calls] == [None, sent.id, reply.id, sent.id]
    first, second = teams.messages_for(conversation_id)
    assert first.deleted and second.reply_to_id == sent.id and second.text == "svar 2"


async def test_429_surfaces_as_error_response_exception_with_retry_after(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    """What the adapter catches: ErrorResponseException (an msrest HttpOperationError);
    ``.response`` is the requests.Response: ``status_code`` and ``headers["Retry-After"]``
    (a string of seconds; headers are case-insensitive), ``.error.error.code`` Teams' code."""
    teams.fail_next(1, 429, retry_after=2)
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    error = caught.value
    assert isinstance(error, HttpOperationError)
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "2"
    assert error.response.headers["retry-after"] == "2"
    assert error.error.error.code == "Throttled" and error.message == "(Throttled) Too many requests."  # fmt: skip
    assert json.loads(error.response.text) == {
        "error": {"code": "Throttled", "message": "Too many requests."}
    }
    assert teams.calls[-1].retry_after == 2 and teams.messages_for(PERSONAL) == []
    assert teams.stats.rejected_429 == 1 and teams.stats.per_conversation_429[PERSONAL] == 1
    # A POST is never retried by the transport: the next send goes through.
    await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    assert [c.status for c in teams.calls] == [429, 201]


async def test_put_and_delete_are_retried_by_the_transport(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    """msrest's urllib3 Retry(total=3) covers PUT and DELETE (not POST: urllib3 2 ignores
    msrest's ``method_whitelist``): a 429 with Retry-After is slept on and retried inside
    the call, and 5xx too. ``retries = 0`` plus ``raise_on_status = False`` on the
    client's policy makes every status surface at once as ErrorResponseException."""
    sent = await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    teams.fail_next(1, 429, retry_after=1, operations=["update"])
    started = time.monotonic()
    await client.conversations.update_activity(
        PERSONAL, sent.id, Activity(type="message", id=sent.id, text="endret")
    )
    assert time.monotonic() - started >= 0.9  # slept Retry-After in an executor thread
    assert [c.status for c in teams.calls_to("update")] == [429, 200]

    policy = client.config.retry_policy
    policy.retries = 0
    teams.fail_next(1, 502, operations=["delete"])
    with pytest.raises(ClientRequestError, match="too many 502 error responses"):
        await client.conversations.delete_activity(PERSONAL, sent.id)  # no .response here

    policy.policy.raise_on_status = False  # mutate: the session holds this Retry object
    for status in (429, 502):
        teams.fail_next(1, status, retry_after=1, operations=["update"])
        with pytest.raises(ErrorResponseException) as caught:
            await client.conversations.update_activity(
                PERSONAL, sent.id, Activity(type="message", id=sent.id, text="igjen")
            )
        assert caught.value.response.status_code == status
        assert caught.value.response.headers["Retry-After"] == "1"
    assert [c.status for c in teams.calls_to("update")] == [429, 200, 429, 502]
    assert [c.status for c in teams.calls_to("delete")] == [502]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "BotNotInConversationRoster"),
        (404, "ConversationNotFound"),
        (412, "PreconditionFailed"),
        (502, "ServiceError"),
    ],
)
async def test_scripted_failures_carry_teams_error_codes(
    teams: TeamsStandIn, client: ConnectorClient, status: int, code: str
) -> None:
    teams.fail_next(1, status, conversation_id=PERSONAL)
    await client.conversations.send_to_conversation("a:other", text("ikke berørt"))
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    assert caught.value.response.status_code == status
    assert caught.value.error.error.code == code
    assert "Retry-After" not in caught.value.response.headers
    await client.conversations.send_to_conversation(PERSONAL, text("igjen"))
    assert [c.status for c in teams.calls] == [201, status, 201]
    assert teams.stats.failed == 1 and teams.stats.sent == 2


async def test_custom_failure_code_message_and_body(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    teams.fail_next(1, 403, code="ConversationBlockedByUser", message="User blocked the conversation with the bot.")  # fmt: skip
    teams.fail_next(1, 500, body={"unexpected": True})
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    assert caught.value.error.error.code == "ConversationBlockedByUser"
    assert teams.stats.rejected_403 == 1
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    assert caught.value.response.status_code == 500 and caught.value.error.error is None


async def test_removed_bot_and_forgotten_conversation(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    teams.remove_bot(PERSONAL)
    teams.forget_conversation(CHANNEL_THREAD)
    for conversation_id, status, code in (
        (PERSONAL, 403, "BotNotInConversationRoster"),
        (CHANNEL_THREAD, 404, "ConversationNotFound"),
    ):
        with pytest.raises(ErrorResponseException) as caught:
            await client.conversations.send_to_conversation(conversation_id, text("hei"))
        assert (caught.value.response.status_code, caught.value.error.error.code) == (status, code)
    assert (teams.stats.rejected_403, teams.stats.rejected_404) == (1, 1)
    teams.restore_bot(PERSONAL)
    await client.conversations.send_to_conversation(PERSONAL, text("hei"))


async def test_require_auth(teams: TeamsStandIn, client: ConnectorClient) -> None:
    teams.require_auth("s3cret")
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.send_to_conversation(PERSONAL, text("hei"))
    assert caught.value.response.status_code == 401
    assert caught.value.message == "Operation returned an invalid status code 'Unauthorized'"
    assert teams.calls[-1].authorization is None and teams.messages_for(PERSONAL) == []

    for token, status in (("wrong", 401), ("s3cret", 201)):
        async with ConnectorClient(StaticToken(token), base_url=teams.service_url) as authed:
            try:
                await authed.conversations.send_to_conversation(PERSONAL, text("hei"))
            except ErrorResponseException as error:
                assert error.response.status_code == status
        assert teams.calls[-1].status == status
        assert teams.calls[-1].authorization == f"Bearer {token}"
    (sent,) = teams.messages_for(PERSONAL)
    assert sent.authorization == "Bearer s3cret" and sent.authorized


async def test_create_conversation(teams: TeamsStandIn, client: ConnectorClient) -> None:
    member = ChannelAccount(id="29:1member", name="Ola Nordmann", aad_object_id="aad-1")
    parameters = ConversationParameters(
        bot=ChannelAccount(id=teams.bot_id),
        members=[member],
        channel_data={"tenant": {"id": teams.tenant_id}},
        tenant_id=teams.tenant_id,
        activity=text("Velkommen til Lyttepost"),
    )
    created = await client.conversations.create_conversation(parameters)
    assert created.id == TeamsStandIn.personal_conversation_id("29:1member")
    assert created.id.startswith("a:1") and created.activity_id
    (welcome,) = teams.messages_for(created.id)
    assert (welcome.via, welcome.text, welcome.activity_id) == (
        "create_conversation",
        "Velkommen til Lyttepost",
        created.activity_id,
    )
    assert teams.user(created.id)["name"] == "Ola Nordmann"
    # The same member gets the same 1:1 conversation; proactive sends go there.
    again = await client.conversations.create_conversation(
        ConversationParameters(
            bot=ChannelAccount(id=teams.bot_id),
            members=[member],
            channel_data={"tenant": {"id": teams.tenant_id}},
        )
    )
    assert again.id == created.id and again.activity_id is None
    assert teams.calls[-1].status == 201 and len(teams.created_conversations) == 2
    # Without a tenant Teams refuses.
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.create_conversation(
            ConversationParameters(bot=ChannelAccount(id=teams.bot_id), members=[member])
        )
    assert caught.value.response.status_code == 400
    assert caught.value.error.error.code == "BadArgument"


async def test_members(teams: TeamsStandIn, client: ConnectorClient) -> None:
    teams.set_user(PERSONAL, user_id="29:1kari", name="Kari Nordmann", email="kari@kommune.no")
    (member,) = await client.conversations.get_conversation_members(PERSONAL)
    assert (member.id, member.name) == ("29:1kari", "Kari Nordmann")
    assert member.aad_object_id == teams.user(PERSONAL)["aadObjectId"]
    one = await client.conversations.get_conversation_member(PERSONAL, "29:1kari")
    assert one.id == "29:1kari"
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.get_conversation_member(PERSONAL, "29:1someone-else")
    assert caught.value.error.error.code == "MemberNotFoundInConversation"


async def test_rate_limits_with_the_real_client(
    teams: TeamsStandIn, client: ConnectorClient
) -> None:
    teams.enforce_limits()  # Teams' numbers: 7/s, 8/2s, 60/30s per conversation, 50/s global
    for n in range(7):
        await client.conversations.send_to_conversation(PERSONAL, text(f"melding {n}"))
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.send_to_conversation(PERSONAL, text("én for mye"))
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    await client.conversations.send_to_conversation("a:1another", text("annen samtale"))
    assert teams.stats.max_in_window(1.0, PERSONAL) == 7
    assert teams.stats.per_conversation[PERSONAL] == 7 and teams.stats.sent == 8
    assert teams.stats.per_conversation_429 == {PERSONAL: 1}
    assert len(teams.messages_for(PERSONAL)) == 7


# --- limits and validation over raw HTTP, with a fake clock -------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def raw_send(
    http: ClientSession, teams: TeamsStandIn, conversation_id: str, body: Any = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    from urllib.parse import quote

    url = f"{teams.service_url}v3/conversations/{quote(conversation_id, safe='')}/activities"
    payload = body if body is not None else {"type": "message", "text": "hei"}
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with http.post(url, data=data, headers={"Content-Type": "application/json"}) as r:
        return r.status, await r.json(content_type=None), dict(r.headers)


async def test_limit_windows() -> None:
    clock = FakeClock()
    async with TeamsStandIn(clock=clock) as teams, ClientSession() as http:
        teams.enforce_limits()
        # 8 per 2 s: seven in the first second, one more in the next, then refused.
        for _ in range(7):
            assert (await raw_send(http, teams, PERSONAL))[0] == 201
        clock.now += 1.0
        assert (await raw_send(http, teams, PERSONAL))[0] == 201
        status, body, headers = await raw_send(http, teams, PERSONAL)
        assert (status, body["error"]["code"], headers["Retry-After"]) == (429, "Throttled", "1")
        clock.now += 1.0  # the first seven left the 2 s window
        assert (await raw_send(http, teams, PERSONAL))[0] == 201

        # 60 per 30 s, and a computed Retry-After (None): when the window frees a slot.
        teams.enforce_limits(None, None, 3, None, retry_after=None)
        for _ in range(3):
            assert (await raw_send(http, teams, PERSONAL))[0] == 201
            clock.now += 2.0
        status, _, headers = await raw_send(http, teams, PERSONAL)
        assert (status, headers["Retry-After"]) == (429, "24")  # 30 - 6 s since the first
        clock.now += 24.0
        assert (await raw_send(http, teams, PERSONAL))[0] == 201

        # 50 per second for the app across conversations.
        teams.enforce_limits(None, None, None, global_per_second=50)
        clock.now += 1.0
        for n in range(50):
            assert (await raw_send(http, teams, f"a:1user{n}"))[0] == 201
        assert (await raw_send(http, teams, "a:1user-51"))[0] == 429
        assert teams.stats.max_in_window(1.0) == 50
        teams.disable_limits()
        assert (await raw_send(http, teams, "a:1user-51"))[0] == 201
        assert teams.stats.rejected_429 == 3 and teams.errors == []


async def test_bad_requests_unknown_paths_and_typing() -> None:
    async with TeamsStandIn(service_path="/emea/") as teams, ClientSession() as http:
        assert teams.service_url.endswith("/emea/")
        for body, message in (
            ({"text": "ingen type"}, "Activity type is required."),
            ({"type": "message", "text": ""}, "Message must have text or attachments."),
            (
                {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD}]},
                "Adaptive Card content must be an object.",
            ),
            (b"{not json", "The request body is not a JSON object."),
        ):
            status, answer, _ = await raw_send(http, teams, PERSONAL, body)
            assert (status, answer["error"]["message"]) == (400, message)
        status, answer, _ = await raw_send(http, teams, PERSONAL, {"type": "message", "text": "x" * 30_000})  # fmt: skip
        assert (status, answer["error"]["code"]) == (413, "MessageSizeTooBig")
        status, answer, _ = await raw_send(http, teams, PERSONAL, {"type": "typing"})
        assert status == 201 and answer["id"]
        assert [c for c, _ in teams.typing] == [PERSONAL] and teams.messages_for(PERSONAL) == []

        base = f"http://127.0.0.1:{teams.port}"
        for method, url, expected in (
            ("POST", f"{base}/v3/conversations/a%3A1/activities", 404),  # the /emea/ dropped
            ("GET", f"{base}/emea/v3/nothing", 404),
            ("GET", f"{base}/emea/v3/conversations/a%3A1/activities", 405),
            ("PUT", f"{base}/emea/v3/conversations/a%3A1/activities/1%3A404", 404),
        ):
            async with http.request(method, url, json={"type": "message", "text": "x"}) as r:
                assert r.status == expected
        assert [(c.operation, c.status) for c in teams.calls[-4:]] == [
            ("unknown", 404),
            ("unknown", 404),
            ("method_not_allowed", 405),
            ("update", 404),
        ]
        assert teams.calls[-4].path.startswith("/v3/conversations/")  # outside the service URL
        assert teams.errors == []


async def test_wait_for_activity(teams: TeamsStandIn, client: ConnectorClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.conversations.send_to_conversation(PERSONAL, text("første"))
        await client.conversations.send_to_conversation(PERSONAL, text("andre"))

    task = asyncio.create_task(later())
    second = await teams.wait_for_activity(PERSONAL, after_count=1)
    await task
    assert second.text == "andre"
    found = await teams.wait_for_activity(PERSONAL, lambda a: a.text == "første")
    assert found is teams.messages_for(PERSONAL)[0]
    since = teams.clock()
    edit = asyncio.create_task(
        client.conversations.update_activity(
            PERSONAL, found.activity_id, Activity(type="message", id=found.activity_id, text="3")
        )
    )
    assert await teams.wait_for_change(PERSONAL, since) > since
    await edit
    with pytest.raises(TimeoutError, match="no matching activity in a:1pL6"):
        await teams.wait_for_activity(PERSONAL, after_count=2, timeout=0.1)
    assert teams.duplicates() == []


# --- the member's side -------------------------------------------------------------------


async def test_user_activities_are_teams_shaped() -> None:
    async with BotEndpoint() as bot, TeamsStandIn(bot.url) as teams:
        assert await teams.user_sends_text(PERSONAL, "Hei bot", name="Kari Nordmann") == 200
        card_id = "1:1700000000001"
        assert await teams.user_submits(PERSONAL, {"q": 1, "a": "ja"}, reply_to_id=card_id) == 200
        message, submit = bot.activities
        assert message["type"] == "message" and message["text"] == "Hei bot"
        assert message["serviceUrl"] == teams.service_url and message["serviceUrl"].endswith("/")
        assert message["channelId"] == "msteams" and message["locale"] == "nb-NO"
        assert message["conversation"] == {
            "conversationType": "personal",
            "tenantId": teams.tenant_id,
            "id": PERSONAL,
        }
        assert (
            message["from"]["id"].startswith("29:") and message["from"]["name"] == "Kari Nordmann"
        )
        assert message["from"]["aadObjectId"]
        assert message["recipient"] == {"id": f"28:{teams.bot_app_id}", "name": "Lyttepost"}
        assert message["channelData"]["tenant"] == {"id": teams.tenant_id}
        assert datetime.fromisoformat(message["timestamp"]).tzinfo is not None
        assert submit["text"] == "" and submit["value"] == {"q": 1, "a": "ja"}
        assert submit["replyToId"] == card_id and submit["id"] != message["id"]
        assert submit["from"] == message["from"]  # the same member
        assert teams.last_posted == submit and "Authorization" not in bot.received[0][1]

        assert await teams.redeliver() == 200  # Teams retries: the very same activity
        assert bot.activities[-1] == submit

        assert await teams.install(PERSONAL) == [200, 200]
        assert await teams.uninstall(PERSONAL) == [200, 200]
        events = bot.activities[-4:]
        assert [(e["type"], e.get("action")) for e in events] == [
            ("conversationUpdate", None),
            ("installationUpdate", "add"),
            ("installationUpdate", "remove"),
            ("conversationUpdate", None),
        ]
        assert events[0]["membersAdded"] == [{"id": teams.bot_id}]
        assert events[3]["membersRemoved"] == [{"id": teams.bot_id}]
        assert len(teams.posted_of_type("installationUpdate")) == 2


async def test_post_raw_status_and_failures() -> None:
    async with BotEndpoint() as bot, TeamsStandIn(bot.url) as teams:
        teams.bot_authorization = "Bearer from-teams"
        assert await teams.post_raw(b"{not json") == 200
        assert bot.received[-1] == (b"{not json", bot.received[-1][1])
        assert bot.received[-1][1]["Authorization"] == "Bearer from-teams"
        assert await teams.post_raw({"type": "message"}, headers={"Content-Type": "text/plain"}) == 200  # fmt: skip
        assert bot.received[-1][1]["Content-Type"] == "text/plain"
        assert teams.last_posted == {"type": "message"}
        bot.status = 500
        assert await teams.user_sends_text(PERSONAL, "hei") == 500
        assert teams.posted[-1].status == 500
        url = bot.url
    teams.bot_endpoint = url  # nobody listens there any more
    async with teams:
        assert await teams.user_sends_text(PERSONAL, "hei") == 0
        assert teams.posted[-1].error and "Connect" in teams.posted[-1].error


# --- end to end: the stand-in and botbuilder's CloudAdapter in local mode -----------------


class SurveyBot(ActivityHandler):
    """Answers text with a card and a card submit with text, like the survey will."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.tenants: list[str | None] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.tenants.append(activity.conversation.tenant_id)
        self.events.append(f"tenant:{teams_get_channel_data(activity).tenant.id}")
        if activity.value:
            await turn_context.send_activity(f"Takk, du svarte {activity.value['a']}")
            return
        card = MessageFactory.attachment(CardFactory.adaptive_card(QUESTION_CARD))
        await turn_context.send_activity(card)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        self.events.append("install")

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        self.events.append("uninstall")

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        self.events.append(f"added:{','.join(m.id for m in members_added)}")


@pytest.fixture
async def cloud_bot() -> AsyncIterator[tuple[SurveyBot, str, CloudAdapter]]:
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(SimpleNamespace(APP_ID="", APP_PASSWORD=""))
    )
    bot = SurveyBot()

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        assert response is not None
        return response

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield bot, f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages", adapter
    await runner.cleanup()


async def test_cloud_adapter_round_trip(
    cloud_bot: tuple[SurveyBot, str, CloudAdapter],
) -> None:
    bot, endpoint, _ = cloud_bot
    async with TeamsStandIn(endpoint, service_path="/emea/") as teams:
        assert await teams.install(PERSONAL) == [201, 201]  # CloudAdapter answers 201
        assert bot.events == [f"added:{teams.bot_id}", "install"]

        assert await teams.user_sends_text(PERSONAL, "start") == 201
        incoming = teams.last_posted
        assert incoming is not None
        card = await teams.wait_for_activity(PERSONAL, lambda a: a.card is not None)
        # In a turn botbuilder replies to the incoming activity (POST .../activities/{id}).
        assert card.via == "reply" and card.reply_to_id == incoming["id"]
        assert card.authorization is None  # local mode sends no token
        assert card.body["recipient"]["id"] == teams.user(PERSONAL)["id"]

        await teams.user_submits(PERSONAL, card.action_data("Ja"), reply_to_id=card.activity_id)
        thanks = await teams.wait_for_activity(PERSONAL, after_count=1)
        assert thanks.text == "Takk, du svarte ja"
        # botbuilder maps conversation.tenant_id to "tenantID", so Teams' "tenantId" is
        # lost; the tenant is in channelData.
        assert bot.tenants == [None, None]
        assert bot.events[-1] == f"tenant:{teams.tenant_id}"

        assert await teams.uninstall(PERSONAL) == [201, 201]
        assert bot.events[-1] == "uninstall"


async def test_cloud_adapter_turn_failing_on_429_answers_500_and_redelivery_duplicates(
    cloud_bot: tuple[SurveyBot, str, CloudAdapter],
) -> None:
    """Without on_turn_error the send's ErrorResponseException escapes process(): aiohttp
    answers 500, Teams redelivers, and a turn that had partly sent sends again."""
    _, endpoint, adapter = cloud_bot
    async with TeamsStandIn(endpoint) as teams:
        assert await teams.user_sends_text(PERSONAL, "start") == 201
        teams.fail_next(1, 429, retry_after=1)
        assert await teams.user_submits(PERSONAL, {"q": 1, "a": "nei"}) == 500
        assert await teams.redeliver() == 201
        assert [a.text for a in teams.messages_for(PERSONAL)][1:] == ["Takk, du svarte nei"]
        assert await teams.redeliver() == 201  # a second redelivery the bot did not dedupe
        assert teams.duplicates() == [(PERSONAL, "Takk, du svarte nei")]

        # Proactive: a stored reference and the adapter's own connector client.
        reference = TurnContext.get_conversation_reference(
            Activity().deserialize(teams.posted_of_type("message")[0])
        )
        sent: list[str] = []

        async def proactive(turn_context: TurnContext) -> None:
            client = turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
            assert isinstance(client, ConnectorClient)
            response = await turn_context.send_activity("Ny undersøkelse er klar")
            sent.append(response.id)

        await adapter.continue_conversation(reference, proactive, bot_app_id="")
        last = await teams.wait_for_activity(PERSONAL, lambda a: a.text == "Ny undersøkelse er klar")  # fmt: skip
        assert last.activity_id == sent[0] and last.via == "reply"
