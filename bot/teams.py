"""The Microsoft Teams channel (botbuilder): activities in, channel-neutral messages out. Decides nothing.

Incoming activities arrive at ``/api/messages`` on Lyttepost's own aiohttp app. Each
token is checked by ``bot.teams_auth`` (not by botbuilder, whose check blocks the event
loop on Microsoft's endpoints); each activity is translated to an ``Inbound`` carrying
its conversation reference, recorded in the database and only then answered (201, or
200 with an invoke response), exactly like a Telegram update; Teams resends an
activity it got no answer to, and the recorded activity id makes the resend a no-op.
Every reply, like every invitation or broadcast, leaves through the outbox and is sent
proactively with the stored conversation reference, so it works after restarts and
from any process.

Choices render as an Adaptive Card (a text block and one submit button per choice, in
rows); the card's submit comes back as a message whose ``value`` carries the button's
payload. Photos are inline images; documents are links to Lyttepost's file route.

botbuilder is archived by Microsoft (successor: the Microsoft 365 Agents SDK); keeping
it to this module makes moving one module's work (docs/decisions/0008).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import requests
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ConversationReference,
)
from botframework.connector.aio import ConnectorClient
from msrest.authentication import Authentication
from sqlalchemy.exc import SQLAlchemyError

from bot.ignored import IgnoredTally
from bot.settings import Settings
from bot.teams_auth import (
    RETRY_AFTER_SECONDS,
    BotTokens,
    KeysUnavailable,
    TeamsAuth,
    TokenRefused,
    TokenUnavailable,
)
from dialogs.admin import ADMIN_COMMANDS
from dialogs.commands import MEMBER_COMMANDS
from dialogs.messages import Attachment as FileAttachment
from dialogs.messages import OutgoingMessage
from services.delivery import PermanentFailure, RecipientUnreachable, RetryLater, TransientFailure
from services.inbound import Inbound, InboundProcessor
from storage import chats, outbox
from storage.files import FileStore
from storage.sessions import Sessions

log = logging.getLogger(__name__)

CHANNEL = "teams"
CHANNEL_ID = "msteams"  # the Bot Framework's name for Teams; this bot serves no other
EMULATOR_CHANNEL_ID = "emulator"  # the Bot Framework Emulator, in local mode only
CARD_ACTION = "adaptiveCard/action"  # the invoke an Adaptive Card's Action.Execute sends
SEND_TIMEOUT_SECONDS = 30  # one call to the Bot Connector (msrest's default is 100 s)
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
MAX_IMAGE_BYTES = 1024 * 1024  # inline images in a personal chat; larger ones go as links
MAX_ACTIONS_PER_SET = 5  # Teams shows at most 6 actions side by side; 5 fit a phone
KNOWN_COMMANDS = MEMBER_COMMANDS | set(ADMIN_COMMANDS)
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# --- in ---------------------------------------------------------------------------------


def is_removal(raw: dict[str, Any], bot_id: str | None) -> bool:
    """Whether the activity says the bot was removed or uninstalled from the chat."""
    if raw.get("type") == "installationUpdate":
        return str(raw.get("action", "")).startswith("remove")
    removed = raw.get("membersRemoved") or []
    return raw.get("type") == "conversationUpdate" and any(
        isinstance(m, dict) and m.get("id") == bot_id for m in removed
    )


def is_installation(raw: dict[str, Any], bot_id: str | None) -> bool:
    """Whether the activity says the bot was added to a personal chat (the member opened it).

    Teams announces an installation twice (``installationUpdate`` add and a
    ``conversationUpdate`` with the bot among the members added); only the second counts,
    so the member is greeted once.
    """
    added = raw.get("membersAdded") or []
    return raw.get("type") == "conversationUpdate" and any(
        isinstance(m, dict) and m.get("id") == bot_id for m in added
    )


def tenant_of(raw: dict[str, Any]) -> str | None:
    """The Entra tenant the activity comes from (Teams puts it in two places)."""
    tenant = _get(raw, "channelData", "tenant", "id") or _get(raw, "conversation", "tenantId")
    return str(tenant).lower() if tenant else None


def activity_kind(raw: dict[str, Any]) -> str:
    """A short name for what an activity is, for logs and the tally of ignored ones:
    its type, the invoke's name or installation's action, and a chat that is not personal."""
    kind = str(raw.get("type") or "unknown")
    if kind == ActivityTypes.invoke:
        kind += f":{raw.get('name') or '?'}"
    elif kind == "installationUpdate":
        kind += f":{raw.get('action') or '?'}"
    conversation_type = _get(raw, "conversation", "conversationType")
    if conversation_type not in (None, "personal"):
        kind += f" in {conversation_type}"
    return kind


def _card_press(raw: dict[str, Any]) -> str | None:
    """The button payload of a card press: an ``Action.Submit`` (a message whose value has
    it) or an ``Action.Execute`` (an ``adaptiveCard/action`` invoke with it in the data)."""
    if raw.get("type") == ActivityTypes.message:
        payload = _get(raw, "value", "payload")
    elif raw.get("type") == ActivityTypes.invoke and raw.get("name") == CARD_ACTION:
        payload = _get(raw, "value", "action", "data", "payload")
    else:
        return None
    return payload if isinstance(payload, str) else None


def translate_activity(raw: Any, reference: dict[str, Any] | None) -> Inbound | None:
    """A raw activity as a channel-neutral event; None for what Lyttepost ignores.

    Raises ``ValueError`` for an activity Lyttepost would use but cannot read (no
    conversation or activity id); what it ignores need not have them.
    """
    if not isinstance(raw, dict):
        raise ValueError("an activity is a JSON object")
    if _get(raw, "conversation", "conversationType") not in (None, "personal"):
        return None  # group chats and channels are not for surveys
    bot_id = _get(raw, "recipient", "id")
    installation = is_installation(raw, bot_id)
    press = _card_press(raw)
    if not installation and press is None and raw.get("type") != ActivityTypes.message:
        return None
    conversation = _get(raw, "conversation", "id")
    activity_id = raw.get("id")
    if not isinstance(conversation, str) or not conversation or not activity_id:
        raise ValueError("activity without conversation id or activity id")
    sender = raw.get("from")
    if not isinstance(sender, dict):
        sender = {}
    user_id = str(sender.get("aadObjectId") or sender.get("id") or conversation)
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "address": conversation,
        "user_id": user_id[:200],
        "update_key": str(activity_id)[:200],
        "reference": reference,
        # The client's locale (``nn-NO``, ``se-NO``): a hint (services/language_choice).
        "language_hint": raw["locale"] if isinstance(raw.get("locale"), str) else None,
    }
    if installation:
        return Inbound(**common, kind="text", text="/start")
    if press is not None:
        return Inbound(**common, kind="press", payload=press)
    text = raw.get("text")
    if isinstance(text, str) and text.strip():
        return Inbound(**common, kind="text", text=as_command(_MENTION.sub("", text).strip()))
    return Inbound(**common, kind="other")


def as_command(text: str) -> str:
    """Teams' command menu sends the bare command word (``svar``); the conversation reads
    commands with a slash. A message that is exactly a command word becomes the command."""
    word = text.lower()
    return f"/{word}" if word in KNOWN_COMMANDS else text


def conversation_reference(activity: Activity, raw: dict[str, Any]) -> dict[str, Any]:
    """The reference to store for proactive sends, with the member's tenant in it.

    botbuilder-python reads and writes the conversation's tenant as ``tenantID`` while
    Teams sends ``tenantId``, so its reference loses the tenant; pacing per tenant (and
    any later conversation Lyttepost creates) needs it, so it is put back here.
    """
    reference = TurnContext.get_conversation_reference(activity).serialize()
    tenant = tenant_of(raw)
    if tenant and isinstance(reference.get("conversation"), dict):
        reference["conversation"]["tenantId"] = tenant
    return reference


class TeamsIntake:
    """Records activities (translated) and hands them to the processor; marks removals."""

    def __init__(
        self,
        processor: InboundProcessor,
        sessions: Sessions,
        ignored: IgnoredTally | None = None,
    ) -> None:
        self._processor = processor
        self._sessions = sessions
        self.ignored = ignored if ignored is not None else IgnoredTally()

    async def accept(self, raw: dict[str, Any]) -> None:
        """An authenticated activity: record it (and only then let Teams have its answer).

        Raises ``ValueError`` for an activity too malformed to use (the caller answers 400).
        """
        activity = Activity().deserialize(raw)  # DeserializationError is a ValueError
        raw = activity.serialize()
        if is_removal(raw, _get(raw, "recipient", "id")):
            address = _get(raw, "conversation", "id")
            if not isinstance(address, str) or not address:
                raise ValueError("removal without a conversation id")
            log.info("teams: the bot was removed from a chat; forgetting its address")
            async with self._sessions() as session, session.begin():
                await outbox.forget_chat(session, CHANNEL, address)
            return
        event = translate_activity(raw, None)
        if event is None:
            self.ignored.add(CHANNEL, activity_kind(raw))
            return
        event = event.model_copy(update={"reference": conversation_reference(activity, raw)})
        rows = await self._processor.record([event])  # SQLAlchemyError: not acknowledged
        self._processor.submit(rows)


def invoke_response(raw: dict[str, Any]) -> web.Response:
    """The HTTP answer to an ``invoke`` activity: Teams waits for 200 and a JSON body.

    A card's ``Action.Execute`` (``adaptiveCard/action``) gets the Adaptive Card invoke
    response with a short message (the answer itself comes as a message, like any
    reply); other invokes (task modules, message extensions...) are not used by
    Lyttepost and get an empty body.
    """
    if raw.get("name") == CARD_ACTION:
        return web.json_response(
            {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
             "value": "Mottatt."}
        )  # fmt: skip
    return web.json_response({})


def _refuse(status: int, reason: str, **headers: str) -> web.Response:
    """A deliberate refusal: one WARNING line, no traceback, nothing recorded."""
    log.warning("teams: request refused with %s (%s)", status, reason)
    return web.Response(status=status, text=HTTPStatus(status).phrase.lower(), headers=headers)


def messages_handler(
    auth: TeamsAuth, intake: TeamsIntake, settings: Settings
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for ``/api/messages``.

    Every request is refused or recorded, never a 500: no JSON content type 415, over the
    size limit 413, unreadable or too deeply nested JSON 400, a token that does not
    prove the Bot Connector sent it (or none) 401, signing keys not yet fetched 503 with
    Retry-After (Teams retries), a channel other than Teams 400, a tenant not allowed
    403. Tokens are checked by ``bot.teams_auth`` (async, cached keys): botbuilder's own
    check blocks the event loop on Microsoft's endpoints. No botbuilder turn is run:
    Lyttepost never answers inside the request.
    """
    validator = auth.validator
    allowed_tenants = settings.allowed_tenants()
    channels = {CHANNEL_ID} if validator is not None else {CHANNEL_ID, EMULATOR_CHANNEL_ID}

    async def handle(request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _refuse(415, "not application/json")
        authorization = request.headers.get("Authorization", "")
        if validator is not None and not authorization.startswith("Bearer "):
            return _refuse(401, "no bearer token")
        try:
            body = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, f"body over {request.client_max_size} bytes")
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            return _refuse(400, f"body is not readable JSON ({type(error).__name__})")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return _refuse(400, "not an activity")
        if validator is not None:
            try:
                await validator.validate(
                    authorization, body.get("channelId"), body.get("serviceUrl")
                )
            except KeysUnavailable:
                return _refuse(503, "Bot Framework signing keys not fetched yet",
                               **{"Retry-After": str(RETRY_AFTER_SECONDS)})  # fmt: skip
            except TokenRefused as error:
                return _refuse(401, str(error))
        channel = body.get("channelId")
        if not isinstance(channel, str) or channel not in channels:
            return _refuse(400, f"channel {str(channel)[:40]!r} is not Teams")
        tenant = tenant_of(body)
        if allowed_tenants and tenant not in allowed_tenants:
            return _refuse(403, f"tenant {tenant} is not in TEAMS_ALLOWED_TENANTS")
        try:
            await intake.accept(body)
        except SQLAlchemyError as error:
            log.error(
                "teams: cannot record the activity (%s); Teams will resend it", type(error).__name__
            )
            return web.Response(status=503, text="try again")
        except (ValueError, TypeError, RecursionError) as error:
            # Our own ValueErrors say what is missing; others may quote the sender's data.
            detail = str(error)[:80] if type(error) is ValueError else type(error).__name__
            return _refuse(400, f"malformed activity ({detail})")
        if body["type"] == ActivityTypes.invoke:
            return invoke_response(body)
        return web.Response(status=201)

    return handle


# --- out --------------------------------------------------------------------------------


def _text_blocks(text: str) -> list[dict[str, Any]]:
    """One TextBlock per line, so every client keeps the line breaks (some Teams clients
    join single newlines inside a block); a blank line becomes extra space above."""
    blocks: list[dict[str, Any]] = []
    gap = False
    for line in text.split("\n"):
        if not line.strip():
            gap = bool(blocks)
            continue
        block: dict[str, Any] = {"type": "TextBlock", "text": line, "wrap": True}
        if gap:
            block["spacing"] = "medium"
        blocks.append(block)
        gap = False
    return blocks or [{"type": "TextBlock", "text": " ", "wrap": True}]


def _chunks(row: tuple[Any, ...], size: int) -> list[tuple[Any, ...]]:
    return [row[i : i + size] for i in range(0, len(row), size)]


def adaptive_card(message: OutgoingMessage) -> dict[str, Any]:
    """Text and buttons as an Adaptive Card: one submit action per button, rows kept.

    A row longer than ``MAX_ACTIONS_PER_SET`` is split: Teams shows only so many actions
    in one set (the rest go to an overflow menu or are dropped), and a phone is narrow.
    """
    body: list[dict[str, Any]] = _text_blocks(message.text)
    for index, row in enumerate(message.buttons):
        if index in message.labelled_rows and len(row) > 1:
            # A matrix row: its label as a heading above its numbers, not as a button.
            body.append(
                {"type": "TextBlock", "text": row[0].label, "wrap": True, "weight": "bolder"}
            )
            row = row[1:]
        for chunk in _chunks(row, MAX_ACTIONS_PER_SET):
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.Submit",
                            "title": button.label,
                            "data": {"payload": button.payload},
                        }
                        for button in chunk
                    ],
                }
            )
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }


def render(message: OutgoingMessage) -> Activity:
    """One outbox part as a Teams activity (the outbox already gives one part per call)."""
    if message.buttons:
        return Activity(
            type=ActivityTypes.message,
            attachments=[Attachment(content_type=ADAPTIVE_CARD, content=adaptive_card(message))],
        )
    return Activity(type=ActivityTypes.message, text=message.text, text_format="plain")


def _status_of(error: Exception) -> tuple[int | None, float | None]:
    """The HTTP status and Retry-After of a botbuilder/msrest error, where it has them."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    retry = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        retry_after = float(retry) if retry is not None else None
    except ValueError:
        retry_after = None
    return (int(status) if status else None), retry_after


class BotConnectorCredentials(Authentication):
    """msrest credentials that put the bot's cached token on each Bot Connector call.

    botbuilder's own credentials fetch the token from Entra (msal, blocking HTTP) inside
    ``signed_session``, which msrest calls on the event loop; this one only reads the
    token ``BotTokens`` keeps fresh in the background (the transport awaits it first).
    Without tokens (local mode) calls go unauthenticated, as botbuilder's do.
    """

    def __init__(self, tokens: BotTokens | None) -> None:
        self._tokens = tokens

    def signed_session(self, session: requests.Session | None = None) -> requests.Session:
        session = super().signed_session(session)
        token = self._tokens.current() if self._tokens is not None else None
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        else:
            session.headers.pop("Authorization", None)
        return session


class TeamsTransport:
    """Sends channel-neutral messages to Teams chats through their stored references."""

    channel = CHANNEL

    def __init__(
        self,
        auth: TeamsAuth,
        sessions: Sessions,
        files: FileStore,
        file_url: Callable[[FileAttachment], str] | None = None,
    ) -> None:
        self._tokens = auth.tokens
        self._credentials = BotConnectorCredentials(auth.tokens)
        self._sessions = sessions
        self._files = files
        self._file_url = file_url
        self._clients: dict[str, Any] = {}

    async def pace_groups(self, addresses: list[str]) -> dict[str, str]:
        """Each chat's tenant: Teams limits a bot's overall rate per app *and tenant*, and
        KS's members are ~370 tenants, so each tenant gets the overall pace of its own."""
        async with self._sessions() as session:
            stored = await chats.conversation_references(session, CHANNEL, addresses)
        groups: dict[str, str] = {}
        for address, reference in stored.items():
            tenant = _get(reference, "conversation", "tenantId")  # conversation_reference
            if isinstance(tenant, str) and tenant:
                groups[address] = f"{CHANNEL}:{tenant.lower()}"
        return groups

    async def _reference(self, address: str) -> ConversationReference:
        async with self._sessions() as session:
            stored = await chats.conversation_reference(session, CHANNEL, address)
        if not stored:
            raise PermanentFailure("no conversation reference stored for this Teams chat")
        return ConversationReference().deserialize(stored)

    async def _activities(self, message: OutgoingMessage) -> list[Activity]:
        if not message.attachments:
            return [render(message)]
        activities = []
        for attachment in message.attachments:
            stored = await self._files.load(attachment.file_id)
            if attachment.kind == "photo" and len(stored.content) <= MAX_IMAGE_BYTES:
                data = base64.b64encode(stored.content).decode()
                activities.append(
                    Activity(
                        type=ActivityTypes.message,
                        text=attachment.caption or "",
                        attachments=[
                            Attachment(
                                content_type=stored.media_type,
                                content_url=f"data:{stored.media_type};base64,{data}",
                                name=attachment.filename,
                            )
                        ],
                    )
                )
            elif self._file_url is not None:
                link = self._file_url(attachment)
                caption = f"{attachment.caption}: " if attachment.caption else ""
                activities.append(
                    Activity(
                        type=ActivityTypes.message,
                        text=f"{caption}[{attachment.filename}]({link})",
                        text_format="markdown",
                    )
                )
            else:
                raise PermanentFailure(
                    "documents reach Teams as links: set PUBLIC_BASE_URL and FILE_LINK_SECRET"
                )
        return activities

    async def _client(self, service_url: str) -> Any:
        """One connector client per service URL, made once with the bot's credentials.

        ``continue_conversation`` builds a client and a turn per message, about seven times
        the CPU of a send; a bulk round of invitations or a busy dialog hour feels that.
        The client's own retries are off: a 429 must reach the sender, which pauses only
        that chat, instead of sleeping in a worker thread.
        """
        if self._tokens is not None:
            try:
                await self._tokens.token()  # cached; fetched with a timeout when missing
            except TokenUnavailable as error:
                raise TransientFailure(f"teams: {error}") from error
        client = self._clients.get(service_url)
        if client is None:
            client = ConnectorClient(self._credentials, base_url=service_url)
            client.config.connection.timeout = SEND_TIMEOUT_SECONDS
            client.config.retry_policy.retries = 0
            client.config.retry_policy.policy.raise_on_status = False
            self._clients[service_url] = client
        return client

    async def show_typing(self, address: str) -> None:
        """A typing activity in the chat (bot/typing_indicator); errors are the caller's."""
        reference = await self._reference(address)
        client = await self._client(reference.service_url)
        activity = Activity(type=ActivityTypes.typing)
        TurnContext.apply_conversation_reference(activity, reference)
        activity.reply_to_id = None
        await client.conversations.send_to_conversation(reference.conversation.id, activity)

    async def deliver(self, address: str, message: OutgoingMessage, replace_id: str | None) -> str:
        reference = await self._reference(address)
        activities = await self._activities(message)
        sent: list[str] = []
        try:
            client = await self._client(reference.service_url)
            conversation_id = reference.conversation.id
            for activity in activities:
                TurnContext.apply_conversation_reference(activity, reference)
                activity.reply_to_id = None
                if message.edit_only:
                    sent.append(await _update_only(client, conversation_id, replace_id, activity))
                    continue
                if replace_id is not None and not message.attachments:
                    activity.id = replace_id
                    await client.conversations.update_activity(
                        conversation_id, replace_id, activity
                    )
                    sent.append(replace_id)
                    continue
                response = await client.conversations.send_to_conversation(
                    conversation_id, activity
                )
                sent.append(str(response.id) if response and response.id else "")
        except (PermanentFailure, RetryLater, RecipientUnreachable, TransientFailure):
            raise
        except OSError as error:
            raise TransientFailure(f"network: {error}") from error
        except Exception as error:  # botbuilder/msrest errors carry the HTTP status
            status, retry_after = _status_of(error)
            if status == 429:
                raise RetryLater(retry_after or 1.0) from error
            if status in (403, 404):
                raise RecipientUnreachable(f"teams answered {status}") from error
            if status is not None and 400 <= status < 500 and status != 412:
                raise PermanentFailure(f"teams answered {status}") from error
            raise TransientFailure(
                f"teams: {type(error).__name__} {status or ''}".strip()
            ) from error
        return sent[-1] if sent else ""


async def _update_only(
    client: ConnectorClient, conversation_id: str, replace_id: str | None, activity: Activity
) -> str:
    """Update an earlier activity, or do nothing: an answered question Teams refuses to
    update (gone, too old) is left as it is rather than sent again. Throttling and
    network trouble still go to the sender, which tries the update again."""
    if replace_id is None:
        return ""
    activity.id = replace_id
    try:
        await client.conversations.update_activity(conversation_id, replace_id, activity)
    except OSError:
        raise
    except Exception as error:
        status, _ = _status_of(error)
        if status is None or status == 429 or status >= 500:
            raise
        log.info("teams: cannot update activity (%s); left as it is", status)
    return replace_id
