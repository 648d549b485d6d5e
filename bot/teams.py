"""The Microsoft Teams channel (botbuilder): activities in, channel-neutral messages out. Decides nothing.

Incoming activities arrive at ``/api/messages`` on Lyttepost's own aiohttp app. Each is
translated to an ``Inbound`` carrying its conversation reference, recorded in the
database and only then answered (201), exactly like a Telegram update; Teams resends an
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
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ConversationReference,
)
from jwt import PyJWTError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from dialogs.admin import ADMIN_COMMANDS
from dialogs.commands import MEMBER_COMMANDS
from dialogs.messages import Attachment as FileAttachment
from dialogs.messages import OutgoingMessage
from services.delivery import PermanentFailure, RecipientUnreachable, RetryLater, TransientFailure
from services.inbound import Inbound, InboundProcessor
from storage import outbox
from storage.files import FileStore
from storage.orm import Chat

log = logging.getLogger(__name__)

CHANNEL = "teams"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
MAX_IMAGE_BYTES = 1024 * 1024  # inline images in a personal chat; larger ones go as links
MAX_ACTIONS_PER_SET = 5  # Teams shows at most 6 actions side by side; 5 fit a phone
KNOWN_COMMANDS = MEMBER_COMMANDS | set(ADMIN_COMMANDS)
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class _AdapterSettings:
    """The attribute names botbuilder's configuration reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id


def build_adapter(settings: Settings) -> CloudAdapter:
    """botbuilder's adapter: validates tokens when an app id is set; local mode without."""
    if not settings.microsoft_app_id:
        log.warning(
            "teams: LOCAL MODE: MICROSOFT_APP_ID is empty, so /api/messages accepts requests "
            "WITHOUT authentication. Fine for the Bot Framework Emulator and tests, never in production."
        )
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(_AdapterSettings(settings)))


# --- in ---------------------------------------------------------------------------------


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


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


def translate_activity(raw: Any, reference: dict[str, Any] | None) -> Inbound | None:
    """A raw activity as a channel-neutral event; None for what Lyttepost ignores.

    Raises ``ValueError`` for an activity too malformed to read.
    """
    if not isinstance(raw, dict):
        raise ValueError("an activity is a JSON object")
    conversation = _get(raw, "conversation", "id")
    activity_id = raw.get("id")
    if not isinstance(conversation, str) or not conversation or not activity_id:
        raise ValueError("activity without conversation id or activity id")
    if _get(raw, "conversation", "conversationType") not in (None, "personal"):
        return None  # group chats and channels are not for surveys
    sender = raw.get("from") if isinstance(raw.get("from"), dict) else {}
    user_id = str(sender.get("aadObjectId") or sender.get("id") or conversation)
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "address": conversation,
        "user_id": user_id[:200],
        "update_key": str(activity_id)[:200],
        "reference": reference,
    }
    bot_id = _get(raw, "recipient", "id")
    if is_installation(raw, bot_id):
        return Inbound(**common, kind="text", text="/start")
    if raw.get("type") != ActivityTypes.message:
        return None
    value = raw.get("value")
    if isinstance(value, dict) and isinstance(value.get("payload"), str):
        return Inbound(**common, kind="press", payload=value["payload"])
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
        self, processor: InboundProcessor, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._processor = processor
        self._sessions = sessions

    async def accept(self, activity: Activity) -> None:
        """An authenticated activity: record it (and only then let Teams have its answer)."""
        raw = activity.serialize()
        reference = conversation_reference(activity, raw)
        if is_removal(raw, _get(raw, "recipient", "id")):
            address = _get(raw, "conversation", "id")
            log.info("teams: the bot was removed from a chat; forgetting its address")
            async with self._sessions() as session, session.begin():
                await outbox.forget_chat(session, CHANNEL, str(address))
            return
        try:
            event = translate_activity(raw, reference)
        except (ValueError, TypeError) as error:
            log.warning("teams: skipping malformed activity (%s)", error)
            return
        if event is None:
            return
        rows = await self._processor.record([event])  # SQLAlchemyError: not acknowledged
        self._processor.submit(rows)


def messages_handler(
    adapter: CloudAdapter, intake: TeamsIntake, settings: Settings
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for ``/api/messages``.

    It authenticates the request with botbuilder (every token is validated when an app
    id is set) and records the activity, but runs no botbuilder turn: Lyttepost never
    answers inside the request, so the connector and token clients a turn would build
    for every activity are not needed. It also refuses what botbuilder would answer 500
    to (no JSON content type, a token that is not a JWT).
    """
    authenticated = bool(settings.microsoft_app_id)
    authentication = adapter.bot_framework_authentication
    allowed_tenants = settings.allowed_tenants()

    async def handle(request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="expected application/json")
        authorization = request.headers.get("Authorization", "")
        if authenticated and not authorization.startswith("Bearer "):
            log.warning("teams: request without a bearer token refused")
            return web.Response(status=401, text="unauthorized")
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("an activity is a JSON object")
            activity = Activity().deserialize(body)
            if not activity.type:
                raise ValueError("an activity has a type")
            await authentication.authenticate_request(activity, authorization)
            tenant = tenant_of(body)
            if allowed_tenants and tenant not in allowed_tenants:
                log.warning(
                    "teams: activity from tenant %s refused (not in TEAMS_ALLOWED_TENANTS)", tenant
                )
                return web.Response(status=403, text="tenant not allowed")
            await intake.accept(activity)
        except (PermissionError, PyJWTError):
            log.warning("teams: request with an invalid token refused")
            return web.Response(status=401, text="unauthorized")
        except SQLAlchemyError as error:
            log.error(
                "teams: cannot record the activity (%s); Teams will resend it", type(error).__name__
            )
            return web.Response(status=503, text="try again")
        except (ValueError, KeyError, TypeError) as error:
            if authenticated:  # botbuilder fails this way on a malformed token too
                log.warning("teams: request refused (%s)", type(error).__name__)
                return web.Response(status=401, text="unauthorized")
            log.warning("teams: malformed request (%s)", type(error).__name__)
            return web.Response(status=400, text="bad request")
        except Exception:  # never a traceback page, never a crash
            log.exception("teams: unexpected error handling an activity")
            return web.Response(status=500, text="error")
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
    for row in message.buttons:
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


class TeamsTransport:
    """Sends channel-neutral messages to Teams chats through their stored references."""

    channel = CHANNEL

    def __init__(
        self,
        adapter: CloudAdapter,
        sessions: async_sessionmaker[AsyncSession],
        app_id: str,
        files: FileStore,
        file_url: Callable[[FileAttachment], str] | None = None,
    ) -> None:
        self._adapter = adapter
        self._sessions = sessions
        self._app_id = app_id
        self._files = files
        self._file_url = file_url
        self._clients: dict[str, Any] = {}

    async def pace_groups(self, addresses: list[str]) -> dict[str, str]:
        """Each chat's tenant: Teams limits a bot's overall rate per app *and tenant*, and
        KS's members are ~370 tenants, so each tenant gets the overall pace of its own."""
        groups: dict[str, str] = {}
        async with self._sessions() as session:
            for start in range(0, len(addresses), 500):
                rows = await session.execute(
                    select(Chat.address, Chat.conversation_ref).where(
                        Chat.channel == CHANNEL, Chat.address.in_(addresses[start : start + 500])
                    )
                )
                for address, stored in rows:
                    tenant = _get(stored, "conversation", "tenantId")  # conversation_reference
                    if isinstance(tenant, str) and tenant:
                        groups[address] = f"{CHANNEL}:{tenant.lower()}"
        return groups

    async def _reference(self, address: str) -> ConversationReference:
        async with self._sessions() as session:
            stored = await session.scalar(
                select(Chat.conversation_ref).where(
                    Chat.channel == CHANNEL, Chat.address == address
                )
            )
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
        client = self._clients.get(service_url)
        if client is None:
            claims = self._adapter.create_claims_identity(self._app_id)
            factory = self._adapter.bot_framework_authentication.create_connector_factory(claims)
            client = await factory.create(service_url, None)
            client.config.retry_policy.retries = 0
            client.config.retry_policy.policy.raise_on_status = False
            self._clients[service_url] = client
        return client

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
