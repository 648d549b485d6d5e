"""The Telegram channel: translate updates in, render messages out. Decides nothing.

Updates are fetched raw (``getUpdates`` through ``Bot.do_api_request``) and translated
one by one, so a single odd update is logged and skipped instead of stalling the
batch. The offset is advanced only after the batch is recorded in the database, so
an update is never confirmed to Telegram before it is safe.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.ignored import IgnoredTally
from bot.readiness import ChannelHealth
from bot.telegram_http import went_out_unanswered
from dialogs.messages import Attachment, OutgoingMessage
from dialogs.messages import split_text as split_messages_text
from services.delivery import (
    DeliveryUncertain,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    TransientFailure,
)
from services.inbound import Inbound, InboundProcessor
from storage.files import FileStore

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
ALLOWED_UPDATES = ["message", "callback_query"]
# What httpx raises once the request has gone out and no answer comes back: Telegram may
# have carried it out. (Connect and pool timeouts, connect errors: nothing was sent.)
NO_ANSWER = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)
TOKEN_REFUSED = "telegram refused the bot token; check TELEGRAM_BOT_TOKEN"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram-sized parts of a text (the outbox splits already; this is the safety net)."""
    return split_messages_text(text, limit)


def translate_update(raw: Any) -> Inbound | None:
    """A raw Bot API update as a channel-neutral event; None for what Lyttepost ignores.

    Raises ``ValueError`` for an update too malformed to read.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        raise ValueError("update without an integer update_id")
    key = str(raw["update_id"])
    if isinstance(raw.get("callback_query"), dict):
        query = raw["callback_query"]
        message = query.get("message") or {}
        chat = message.get("chat") or {}
        if chat.get("type", "private") != "private" or "id" not in chat:
            return None
        return Inbound(
            channel=CHANNEL,
            address=str(chat["id"]),
            user_id=str((query.get("from") or {}).get("id", chat["id"])),
            update_key=key,
            kind="press",
            payload=str(query.get("data") or ""),
            language_hint=_language_code(query),
        )
    if isinstance(raw.get("message"), dict):
        message = raw["message"]
        chat = message.get("chat") or {}
        if chat.get("type") != "private" or "id" not in chat:
            return None  # groups and channels are not for surveys
        text = message.get("text")
        return Inbound(
            channel=CHANNEL,
            address=str(chat["id"]),
            user_id=str((message.get("from") or {}).get("id", chat["id"])),
            update_key=key,
            kind="text" if isinstance(text, str) else "other",
            text=text if isinstance(text, str) else "",
            language_hint=_language_code(message),
        )
    return None  # edited messages, membership changes...


def _language_code(sent: dict[str, Any]) -> str | None:
    """The sender's app language (``from.language_code``: ``nn``, ``nb``, ``no``, ``se``…),
    a hint the conversation may offer, never a choice (services/language_choice)."""
    sender = sent.get("from")
    code = sender.get("language_code") if isinstance(sender, dict) else None
    return code if isinstance(code, str) and code else None


def update_kind(raw: Any) -> str:
    """A short name for what an update is, for logs and the tally of ignored ones: its
    kind (``message``, ``edited_message``, ``poll``...) and a chat that is not private."""
    if not isinstance(raw, dict):
        return "not an object"
    kind = next((key for key in raw if key != "update_id"), "empty")
    body = raw.get(kind)
    if kind == "callback_query" and isinstance(body, dict):
        body = body.get("message")
    chat_type = _get_chat_type(body)
    return f"{kind} in {chat_type}" if chat_type not in (None, "private") else str(kind)


def _get_chat_type(body: Any) -> str | None:
    chat = body.get("chat") if isinstance(body, dict) else None
    value = chat.get("type") if isinstance(chat, dict) else None
    return str(value) if value is not None else None


def callback_ids(raws: Sequence[Any]) -> list[str]:
    """Ids of callback queries to acknowledge (stops the button's spinner)."""
    return [
        str(raw["callback_query"]["id"])
        for raw in raws
        if isinstance(raw, dict)
        and isinstance(raw.get("callback_query"), dict)
        and "id" in raw["callback_query"]
    ]


def _keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(text=b.label, callback_data=b.payload) for b in row]
            for row in message.buttons
        ]
    )


def sent_without_answer(error: BaseException) -> bool:
    """Whether a failed call went out unanswered, so its effect is unknown (through PTB's
    httpx client or Lyttepost's aiohttp one, bot/telegram_http.py)."""
    return isinstance(error.__cause__, NO_ANSWER) or went_out_unanswered(error.__cause__)


def _retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns about int vs timedelta here
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramTransport:
    """Sends channel-neutral messages with python-telegram-bot, translating its errors."""

    channel = CHANNEL

    def __init__(
        self, bot: Bot, files: FileStore | None = None, health: ChannelHealth | None = None
    ) -> None:
        self._bot = bot
        self._files = files
        self._health = health or ChannelHealth()

    async def deliver(self, address: str, message: OutgoingMessage, replace_id: str | None) -> str:
        try:
            sent = await self._deliver(int(address), message, replace_id)
            self._health.worked()
            return sent
        except RetryAfter as error:
            raise RetryLater(_retry_seconds(error)) from error
        except Forbidden as error:
            raise RecipientUnreachable(error.message) from error
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                raise RecipientUnreachable(error.message) from error
            raise PermanentFailure(error.message) from error
        except (TimedOut, NetworkError) as error:
            if sent_without_answer(error):  # may be in the chat already: one more copy at most
                cause = type(error.__cause__).__name__
                raise DeliveryUncertain(f"sent, no answer ({cause})") from error
            raise TransientFailure(str(error)) from error
        except InvalidToken as error:
            self._health.refused(TOKEN_REFUSED)
            raise TransientFailure("invalid bot token") from error
        except TelegramError as error:
            raise TransientFailure(str(error)) from error
        except LookupError as error:  # a stored file that is gone
            raise PermanentFailure(str(error)) from error

    async def show_typing(self, address: str) -> None:
        """Show "typing…" until the next message or for five seconds (bot/typing_indicator)."""
        await self._bot.send_chat_action(chat_id=int(address), action="typing")

    async def _deliver(self, chat_id: int, message: OutgoingMessage, replace_id: str | None) -> str:
        last_id = ""
        if message.text:
            last_id = await self._send_text(chat_id, message, replace_id)
        for attachment in message.attachments:
            last_id = await self._send_file(chat_id, attachment)
        return last_id

    async def _send_text(
        self, chat_id: int, message: OutgoingMessage, replace_id: str | None
    ) -> str:
        chunks = split_text(message.text)
        markup = _keyboard(message)
        if message.edit_only:
            return await self._edit_only(chat_id, message, replace_id, chunks[0], markup)
        if replace_id is not None and len(chunks) == 1:
            try:
                await self._bot.edit_message_text(
                    chat_id=chat_id, message_id=int(replace_id), text=chunks[0], reply_markup=markup
                )
                return replace_id
            except BadRequest as error:
                if "not modified" in error.message.lower():
                    return replace_id
                log.info("telegram: cannot edit message (%s); sending a new one", error.message)
            except (TimedOut, NetworkError) as error:  # an edit done twice is done once
                raise TransientFailure(str(error)) from error
        last_id = ""
        for index, chunk in enumerate(chunks):
            sent = await self._bot.send_message(
                chat_id=chat_id,
                text=chunk,
                reply_markup=markup if index == len(chunks) - 1 else None,
            )
            last_id = str(sent.message_id)
        return last_id

    async def _edit_only(
        self,
        chat_id: int,
        message: OutgoingMessage,
        replace_id: str | None,
        text: str,
        markup: InlineKeyboardMarkup | None,
    ) -> str:
        """Edit the earlier message, or do nothing: an answered question that cannot be
        edited (too old, deleted) is left as it is rather than sent again."""
        if replace_id is None:
            return ""
        try:
            await self._bot.edit_message_text(
                chat_id=chat_id, message_id=int(replace_id), text=text, reply_markup=markup
            )
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                log.info("telegram: cannot edit message (%s); left as it is", error.message)
        except (TimedOut, NetworkError) as error:
            raise TransientFailure(str(error)) from error
        return replace_id

    async def _send_file(self, chat_id: int, attachment: Attachment) -> str:
        """A photo or document: by Telegram's file id when it has one, else uploaded once."""
        if self._files is None:
            raise PermanentFailure("this transport has no file store")
        stored = await self._files.load(attachment.file_id)
        caption = (attachment.caption or "")[:MAX_CAPTION] or None
        if stored.telegram_file_id:
            try:
                return await self._send_file_as(
                    chat_id, attachment, stored.telegram_file_id, caption
                )
            except BadRequest as error:  # an id Telegram forgot: upload again
                log.info("telegram: stored file id refused (%s); uploading", error.message)
        upload = InputFile(stored.content, filename=attachment.filename)
        sent_id = await self._send_file_as(chat_id, attachment, upload, caption)
        return sent_id

    async def _send_file_as(
        self, chat_id: int, attachment: Attachment, file: str | InputFile, caption: str | None
    ) -> str:
        if attachment.kind == "photo":
            sent = await self._bot.send_photo(chat_id=chat_id, photo=file, caption=caption)
            telegram_id = sent.photo[-1].file_id if sent.photo else None
        else:
            sent = await self._bot.send_document(
                chat_id=chat_id, document=file, filename=attachment.filename, caption=caption
            )
            telegram_id = sent.document.file_id if sent.document else None
        if isinstance(file, InputFile) and telegram_id and self._files is not None:
            await self._files.remember_telegram_id(attachment.file_id, telegram_id)
        return str(sent.message_id)


class TelegramIntake:
    """Brings updates in, by long polling or from the webhook, into the processor."""

    def __init__(
        self,
        bot: Bot,
        processor: InboundProcessor,
        *,
        poll_timeout: int = 25,
        ignored: IgnoredTally | None = None,
        health: ChannelHealth | None = None,
    ) -> None:
        self._bot = bot
        self.health = health or ChannelHealth()
        self._processor = processor
        self.ignored = ignored if ignored is not None else IgnoredTally()
        self._poll_timeout = poll_timeout
        self._offset: int | None = None
        # Raw getUpdates is deliberate (one bad update must not fail the batch); PTB warns.
        warnings.filterwarnings("ignore", message=".*Bot.getUpdates.*", category=PTBUserWarning)

    async def accept(self, raws: Sequence[Any]) -> bool:
        """Translate, record and hand over a batch; False if it could not be recorded."""
        events: list[Inbound] = []
        for raw in raws:
            try:
                event = translate_update(raw)
            except Exception as error:  # any shape we cannot read: log it, never stall the batch
                log.warning(
                    "telegram: skipping malformed update (%s: %s)", type(error).__name__, error
                )
                continue
            if event is not None:
                events.append(event)
            else:
                self.ignored.add(CHANNEL, update_kind(raw))
        try:
            new_rows = await self._processor.record(events)
        except SQLAlchemyError as error:
            log.error(
                "telegram: cannot record updates (%s); not acknowledging", type(error).__name__
            )
            return False
        self._processor.submit(new_rows)
        for query_id in callback_ids(raws):
            asyncio.create_task(self._answer_callback(query_id))
        return True

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramError as error:  # cosmetic only: the spinner stops by itself
            log.debug("telegram: answerCallbackQuery failed: %s", error)

    async def poll_forever(self) -> None:
        """Long-poll ``getUpdates``; survives network errors and database outages."""
        await self._bot.delete_webhook()
        backoff = 1.0
        while True:
            try:
                kwargs: dict[str, Any] = {
                    "timeout": self._poll_timeout,
                    "allowed_updates": ALLOWED_UPDATES,
                }
                if self._offset is not None:
                    kwargs["offset"] = self._offset
                raws = await self._bot.do_api_request(
                    "getUpdates", api_kwargs=kwargs, read_timeout=self._poll_timeout + 10
                )
            except (TimedOut, NetworkError, Conflict) as error:
                log.warning("telegram: getUpdates failed (%s); retrying in %.0fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            except (InvalidToken, EndPointNotFound):
                # Raw getUpdates after start: PTB reports a 401/404 as "endpoint not
                # found", but getUpdates always exists, so it is the token that is refused.
                log.critical("telegram: the bot token was refused; check TELEGRAM_BOT_TOKEN")
                self.health.refused(TOKEN_REFUSED)
                await asyncio.sleep(30)
                continue
            except TelegramError as error:
                log.error("telegram: getUpdates refused (%s); retrying in %.0fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            self.health.worked()
            if not isinstance(raws, list):
                log.warning("telegram: getUpdates returned %s, not a list", type(raws).__name__)
                continue
            if not raws:
                continue
            try:
                accepted = await self.accept(raws)
            except Exception:  # a bug here must not stop polling for everyone
                log.exception("telegram: failed to accept a batch; retrying it")
                accepted = False
            if not accepted:
                await asyncio.sleep(2.0)  # database down: ask for the same batch again
                continue
            ids = [
                raw["update_id"]
                for raw in raws
                if isinstance(raw, dict) and isinstance(raw.get("update_id"), int)
            ]
            if ids:
                self._offset = max(ids) + 1


def webhook_handler(
    intake: TelegramIntake, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for Telegram's webhook calls.

    Bad requests are refused with one WARNING line and nothing recorded: a wrong or
    missing secret (any bytes at all in the header) 401, a body over the size limit 413,
    a body that is not readable JSON (or nested too deep to read) 400.
    """
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        token = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        # aiohttp keeps undecodable header bytes as surrogates: compare bytes, never raise.
        given = token.encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: request without the right secret token refused")
            return web.Response(status=401, text="unauthorized")
        try:
            raw = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            log.warning("telegram webhook: body over %s bytes refused", request.client_max_size)
            return web.Response(status=413, text="request entity too large")
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            log.warning("telegram webhook: body is not readable JSON (%s)", type(error).__name__)
            return web.Response(status=400, text="bad request")
        if not await intake.accept([raw]):
            return web.Response(status=503, text="try again")  # Telegram redelivers
        return web.Response(status=200, text="ok")

    return handle
