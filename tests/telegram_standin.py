"""A stand-in for the Telegram Bot API on loopback, for end-to-end tests and benchmarks.

Telegram cannot be reached from CI, so this speaks enough of the Bot API for
python-telegram-bot: form, multipart and JSON bodies, Telegram-shaped answers and error
texts (PTB maps HTTP status + description to its exceptions), long polling with offsets,
and webhook pushes with retries. A test acts as members (types text, presses buttons),
reads back what the bot sent, and can enforce flood limits (429 + ``retry_after``),
block chats (403), inject failures and add latency. No pytest imports: benches use it.

Usage::

    async with TelegramStandIn() as api:
        bot = telegram.Bot("1:T", base_url=api.base_url)
        api.user_sends_text(42, "/start")
        reply = await api.wait_for_message(42)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import ClientSession, ClientTimeout, web

T = TypeVar("T")
Buttons = list[list[tuple[str, str]]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200

# Methods that put something in a chat; they count towards the flood limits.
SEND_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "editmessagetext", "editmessagereplymarkup"}
)
# Parameters whose wire value is JSON (PTB JSON-encodes every non-string value; plain
# strings such as ``text`` arrive raw and must never be JSON-decoded: "[1]" is text).
JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope",
        "link_preview_options", "reply_parameters", "media", "results", "permissions", "options",
        "explanation_entities", "menu_button", "administrator_rights", "reaction",
    }
)  # fmt: skip
INT_PARAMS = frozenset(
    {
        "chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time",
        "from_chat_id", "reply_to_message_id", "message_thread_id", "user_id",
    }
)  # fmt: skip
BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "disable_web_page_preview", "has_spoiler", "disable_content_type_detection",
        "allow_sending_without_reply", "is_personal",
    }
)  # fmt: skip
# Telegram's default when allowed_updates was never given: all but these.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)  # fmt: skip
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


# --- records ------------------------------------------------------------------------------


@dataclass
class MessageVersion:
    """One state of a sent message: as first sent, then after each edit."""

    text: str
    buttons: Buttons
    at: float


@dataclass
class SentMessage:
    """A message the bot sent; edits update it in place and append to ``history``.

    ``text`` is what the member sees (caption for photos/documents; parse_mode markup
    rendered away, surrounding whitespace trimmed like Telegram); ``raw_text`` is what the
    bot sent. ``buttons`` are inline keyboard rows of (label, callback_data) ("" for URL
    buttons). Times are ``time.monotonic()``.
    """

    message_id: int
    chat_id: int
    text: str
    buttons: Buttons
    kind: str = "message"  # message | photo | document
    filename: str | None = None
    file_size: int | None = None
    file_bytes: bytes | None = None
    parse_mode: str | None = None
    raw_text: str = ""
    reply_markup: dict[str, Any] | None = None
    sent_at: float = field(default_factory=time.monotonic)
    changed_at: float = field(default_factory=time.monotonic)
    history: list[MessageVersion] = field(default_factory=list)

    @property
    def edits(self) -> list[MessageVersion]:
        """The versions after each edit (``history[0]`` is the original)."""
        return self.history[1:]

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    @property
    def callback_data(self) -> list[str]:
        return [data for row in self.buttons for _, data in row]


@dataclass
class RecordedCall:
    """One request the bot made, decoded, with the HTTP status and body we answered."""

    method: str
    params: dict[str, Any]
    status: int
    at: float
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class WebhookAttempt:
    """One POST of an update to the bot's webhook; status 0 means no HTTP answer."""

    update_id: Any
    url: str
    status: int
    error: str | None
    at: float


@dataclass
class Limits:
    """Flood limits to enforce: a sliding one-second window overall, a token bucket per chat."""

    global_per_second: float | None = 30
    per_chat_per_second: float | None = 1
    per_chat_burst: int = 3
    retry_after: int = 1


@dataclass
class SendStats:
    """Counts of sends (sendMessage/sendPhoto/sendDocument/edits) for benchmarks.

    Also readable as a mapping (``stats["sent"]``) for older callers.
    """

    sent: int = 0
    rejected_429: int = 0
    rejected_403: int = 0
    per_chat: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    per_chat_429: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    first_sent_at: float | None = None
    last_sent_at: float | None = None
    send_times: list[float] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def max_in_window(self, window: float = 1.0) -> int:
        """The most successful sends inside any ``window``-second span (limit compliance)."""
        best, start = 0, 0
        times = self.send_times
        for end in range(len(times)):
            while times[end] - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


@dataclass
class _Webhook:
    url: str
    secret: str | None
    max_connections: int
    slots: asyncio.Semaphore


class _ApiError(Exception):
    """Raised inside handlers; becomes a Telegram-shaped error answer."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}  # fmt: skip
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class _Described:
    """A result with Telegram's optional ``description`` next to it ("Webhook was set")."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description


# --- the server ---------------------------------------------------------------------------


class TelegramStandIn:
    """The fake Bot API server. ``async with TelegramStandIn() as api: api.base_url``.

    ``token=None`` accepts any token; otherwise other tokens get 401 Unauthorized.
    ``strict_chats=True`` answers 400 "chat not found" for chats no member wrote from.
    """

    def __init__(
        self,
        token: str | None = None,
        username: str = "lyttepost_test_bot",
        *,
        first_name: str = "Lyttepost",
        first_update_id: int = 1,
        strict_chats: bool = False,
    ) -> None:
        self.token = token
        self.username = username
        self.first_name = first_name
        self.strict_chats = strict_chats
        self.keep_file_bytes = True  # benchmarks sending many files can switch this off
        self.calls: list[RecordedCall] = []
        self.messages: dict[int, list[SentMessage]] = defaultdict(list)
        self.limits: Limits | None = None
        self.blocked: set[int] = set()
        self.stats = SendStats()
        self.chat_actions: list[tuple[int, str, float]] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.dropped_updates: list[dict[str, Any]] = []  # filtered out by allowed_updates
        self.webhook_attempts: list[WebhookAttempt] = []
        self.webhook_retry_delays: tuple[float, ...] = (0.1, 0.3, 0.6, 1.2)
        self.webhook_timeout = 10.0
        self.allowed_updates: list[str] | None = None
        self.errors: list[str] = []  # stand-in bugs (answered 500); tests may assert empty
        self.latency = 0.0
        self.port = 0
        self._method_latency: dict[str, float] = {}
        self._answer_delay: dict[str, float] = {}  # method ("*": any) -> seconds
        self._failures: dict[str, deque[_ApiError]] = defaultdict(deque)
        self._queue: list[tuple[int, dict[str, Any]]] = []  # (sequence, update) for polling
        self._webhook: _Webhook | None = None
        self._webhook_inflight: dict[int, dict[str, Any]] = {}
        self._webhook_undelivered: list[tuple[int, dict[str, Any]]] = []
        self._webhook_last_error: tuple[int, str] | None = None
        self._next_update = first_update_id
        self._next_message: dict[int, int] = defaultdict(int)
        self._next_query = 7_000_000_000
        self._next_file = 0
        self._files: dict[str, tuple[str | None, int | None]] = {}
        self._open_queries: set[str] = set()
        self._users: dict[int, dict[str, Any]] = {}
        self._bot_id = 1
        self._poll_generation = 0
        self._poll_event: asyncio.Event | None = None
        self._any_event: asyncio.Event | None = None
        self._chat_events: dict[int, asyncio.Event] = {}
        self._window: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            name[len("_api_") :]: getattr(self, name)
            for name in dir(self)
            if name.startswith("_api_")
        }

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> TelegramStandIn:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._client = ClientSession(timeout=ClientTimeout(total=self.webhook_timeout))
        self._closing = False
        return self

    async def stop(self) -> None:
        """End long polls and webhook pushes at once, then close the server."""
        self._closing = True
        self._wake_pollers()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to give python-telegram-bot as ``base_url`` (it appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def webhook_url(self) -> str | None:
        """The webhook the bot set, or None in polling mode."""
        return self._webhook.url if self._webhook else None

    @property
    def webhook_secret(self) -> str | None:
        return self._webhook.secret if self._webhook else None

    # --- configuration ------------------------------------------------------------------

    def enforce_limits(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_chat_burst: int = 3,
        retry_after: int = 1,
    ) -> None:
        """Answer 429 beyond these rates (None switches one limit off)."""
        self.limits = Limits(global_per_second, per_chat_per_second, per_chat_burst, retry_after)
        self._window.clear()
        self._buckets.clear()

    def disable_limits(self) -> None:
        self.limits = None

    def block(self, chat_id: int, *, notify: bool = True) -> None:
        """The member blocked the bot: sends to the chat answer 403. Like Telegram, the
        bot gets a ``my_chat_member`` update (status "kicked") unless ``notify=False``."""
        self.blocked.add(chat_id)
        if notify:
            self._chat_member_update(chat_id, "member", "kicked")

    def unblock(self, chat_id: int, *, notify: bool = True) -> None:
        """The member restarted the bot."""
        if chat_id in self.blocked:
            self.blocked.discard(chat_id)
            if notify:
                self._chat_member_update(chat_id, "kicked", "member")

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` ("*" = any method) fail like this."""
        for _ in range(times):
            self._failures[method.lower()].append(_ApiError(status, description, retry_after))

    def delay(self, seconds: float, *, method: str | None = None) -> None:
        """Answer every request (or only ``method``) ``seconds`` later."""
        if method is None:
            self.latency = seconds
        else:
            self._method_latency[method.lower()] = seconds

    def answer_late(self, seconds: float, *, method: str | None = None) -> None:
        """Carry out every request (or only ``method``) at once but answer ``seconds``
        later, like a Telegram that is slow to say so: a message is in the chat before
        the bot hears back, and stays there if the bot gives up waiting. (``delay`` is
        the other kind of slow: nothing happens until the time has passed.) 0 turns it off.
        """
        self._answer_delay[(method or "*").lower()] = seconds

    # --- members ------------------------------------------------------------------------

    def user_sends_text(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """A member types a message in their private chat with the bot; returns update_id.

        Like Telegram, a leading "/command" gets a ``bot_command`` entity, and writing to
        the bot unblocks it.
        """
        user = self._remember_user(chat_id, first_name, username, language_code)
        self.unblock(chat_id, notify=False)
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": user,
            "chat": self._chat_json(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group(0))}
            ]
        return self._add_update({"message": message}, respect_allowed_updates=True)

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        first_name: str = "Test",
        username: str | None = None,
    ) -> int:
        """A member presses an inline button under one of the bot's messages; returns update_id.

        The update carries the bot's stored message as it is now; an unknown message comes
        as Telegram's "inaccessible message" (date 0).
        """
        user = self._remember_user(chat_id, first_name, username, None)
        sent = self.find_message(chat_id, message_id)
        message = (
            self._message_json(sent)
            if sent
            else {"chat": self._chat_json(chat_id), "message_id": message_id, "date": 0}
        )
        self._next_query += 1
        query_id = str(self._next_query)
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(-abs(chat_id) * 31),
            "data": callback_data,
        }
        return self._add_update({"callback_query": query}, respect_allowed_updates=True)

    def inject_raw_update(
        self, update: dict[str, Any], *, respect_allowed_updates: bool = False
    ) -> Any:
        """Queue any update, odd or malformed; returns its update_id (assigned unless given).

        Raw updates ignore ``allowed_updates`` by default so that a test's odd update
        really reaches the bot.
        """
        return self._add_update(dict(update), respect_allowed_updates=respect_allowed_updates)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (polling) or not yet delivered (webhook)."""
        return (
            [u for _, u in self._queue]
            + list(self._webhook_inflight.values())
            + [u for _, u in self._webhook_undelivered]
        )

    # --- what the bot did ---------------------------------------------------------------

    def messages_for(self, chat_id: int) -> list[SentMessage]:
        return list(self.messages.get(chat_id, ()))

    def last_message(self, chat_id: int) -> SentMessage | None:
        messages = self.messages.get(chat_id)
        return messages[-1] if messages else None

    def find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return next((m for m in self.messages.get(chat_id, ()) if m.message_id == message_id), None)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one method (case-insensitive, like Telegram's method names)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the familiar test-helper signature
        after_count: int | None = None,
    ) -> SentMessage:
        """The first message at index >= ``after_count`` whose current state satisfies
        ``predicate``; waits for new messages and edits. Raises TimeoutError."""

        def probe() -> SentMessage | None:
            for message in self.messages.get(chat_id, ())[after_count or 0 :]:
                if predicate is None or predicate(message):
                    return message
            return None

        try:
            return await self._wait(probe, timeout, chat_id)
        except TimeoutError:
            seen = [m.text[:60] for m in self.messages_for(chat_id)[-5:]]
            raise TimeoutError(
                f"no matching message for chat {chat_id} within {timeout}s; last: {seen}"
            ) from None

    async def wait_for_change(self, chat_id: int, since: float, within: float = 10.0) -> float:
        """Wait until a message in the chat is sent or edited after ``since`` (monotonic);
        returns when that happened. Wakes only this chat's waiters, so benchmarks scale."""

        def probe() -> float | None:
            changed = [m.changed_at for m in self.messages.get(chat_id, ()) if m.changed_at > since]
            return min(changed) if changed else None

        try:
            return await self._wait(probe, within, chat_id)
        except TimeoutError:
            raise TimeoutError(f"no reply in chat {chat_id} within {within}s") from None

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - same shape as wait_for_message
        after_count: int | None = None,
    ) -> RecordedCall:
        """The first recorded call of ``method`` (index >= after_count among those calls)."""

        def probe() -> RecordedCall | None:
            for call in self.calls_to(method)[after_count or 0 :]:
                if predicate is None or predicate(call):
                    return call
            return None

        return await self._wait(probe, timeout, None)

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - same shape as wait_for_message
    ) -> None:
        """Wait until ``condition()`` holds; re-checked whenever the stand-in's state changes
        (a call, a message, an update, a webhook attempt)."""
        await self._wait(lambda: True if condition() else None, timeout, None)

    @staticmethod
    def button(message: SentMessage, label_substring: str) -> str:
        """The callback_data of the first button whose label contains the substring."""
        for row in message.buttons:
            for label, data in row:
                if label_substring in label:
                    return data
        raise LookupError(f"no button with {label_substring!r} in {message.labels}")

    def duplicates(self) -> list[tuple[int, str]]:
        """(chat_id, text) pairs the bot sent more than once (edits don't count)."""
        seen: dict[tuple[int, str], int] = defaultdict(int)
        for chat_id, messages in self.messages.items():
            for message in messages:
                seen[(chat_id, message.text)] += 1
        return [key for key, n in seen.items() if n > 1]

    # --- HTTP ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        token = request.match_info["token"]
        lowered = method.lower()
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            return self._answer(method, {}, error.body(), error.status)
        pause = self.latency + self._method_latency.get(lowered, 0.0)
        if pause:
            await asyncio.sleep(pause)
        if self.token is not None and token != self.token:
            return self._answer(method, params, _ApiError(401, "Unauthorized").body(), 401)
        prefix = token.split(":", 1)[0]
        if prefix.isdigit():
            self._bot_id = int(prefix)
        failures = self._failures.get(lowered) or self._failures.get("*")
        if failures:
            error = failures.popleft()
            return self._answer(method, params, error.body(), error.status)
        handler = self._handlers.get(lowered)
        if handler is None:
            return self._answer(method, params, _ApiError(404, "Not Found").body(), 404)
        try:
            result = await handler(params)
        except _ApiError as error:
            return self._answer(method, params, error.body(), error.status)
        except Exception as error:  # a stand-in bug: answer 500 and keep it visible
            self.errors.append(f"{method}: {type(error).__name__}: {error}")
            body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {error}"}  # fmt: skip
            return self._answer(method, params, body, 500)
        late = self._answer_delay.get(lowered, self._answer_delay.get("*", 0.0))
        if late:
            await asyncio.sleep(late)  # done already; the bot may stop waiting meanwhile
        if isinstance(result, _Described):
            return self._answer(
                method,
                params,
                {"ok": True, "result": result.result, "description": result.description},
                200,
            )
        return self._answer(method, params, {"ok": True, "result": result}, 200)

    def _answer(
        self, method: str, params: dict[str, Any], body: dict[str, Any], status: int
    ) -> web.Response:
        self.calls.append(RecordedCall(method, params, status, time.monotonic(), body))
        self._touch(None)
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        """Decode a JSON, form-urlencoded or multipart body (plus query string) into the
        values Telegram would see; uploads become {"filename", "size", "content_type"}."""
        params: dict[str, Any] = dict(request.query)
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: can't parse JSON object")
            params.update(body)
        elif content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                name = getattr(part, "name", None)
                if name is None:
                    continue
                filename = getattr(part, "filename", None)
                if filename is not None:
                    data = await part.read()  # type: ignore[union-attr]
                    params[name] = {
                        "filename": filename,
                        "size": len(data),
                        "content_type": part.headers.get("Content-Type"),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "_bytes": bytes(data),
                    }
                else:
                    params[name] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(await request.post())
        return _normalize(params)

    # --- API methods (dispatched by lower-case name, like Telegram's case-insensitive names)

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if params.get("allowed_updates") is not None:
            self._set_allowed_updates(params["allowed_updates"])
        offset = _as_int(params.get("offset"), 0, "offset")
        if offset > 0:
            self._queue = [(seq, u) for seq, u in self._queue if seq >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        limit = min(max(_as_int(params.get("limit"), 100, "limit"), 1), 100)
        timeout = max(float(_as_int(params.get("timeout"), 0, "timeout")), 0.0)
        # Telegram ends an older long poll when a newer getUpdates arrives.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._webhook is not None:
                raise _ApiError(409, "Conflict: terminated by setWebhook request")
            if self._queue:
                return [update for _, update in self._queue[:limit]]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            if self._poll_event is None:
                self._poll_event = asyncio.Event()
            event = self._poll_event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    async def _api_setwebhook(self, params: dict[str, Any]) -> _Described:
        url = str(params.get("url") or "")
        if not url:
            return await self._api_deletewebhook(params)
        if not re.match(r"https?://", url):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")  # fmt: skip
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = _as_int(params.get("max_connections"), 40, "max_connections")
        if not 1 <= max_connections <= 100:
            raise _ApiError(400, "Bad Request: bad webhook: max_connections must be between 1 and 100")  # fmt: skip
        if params.get("allowed_updates") is not None:
            self._set_allowed_updates(params["allowed_updates"])
        backlog = sorted(self._queue + self._webhook_undelivered, key=lambda item: item[0])
        self._queue, self._webhook_undelivered = [], []
        if params.get("drop_pending_updates"):
            backlog = []
        self._webhook = _Webhook(url, secret, max_connections, asyncio.Semaphore(max_connections))
        self._webhook_last_error = None
        self._wake_pollers()
        for seq, update in backlog:
            self._push(seq, update)
        return _Described(True, "Webhook was set")

    async def _api_deletewebhook(self, params: dict[str, Any]) -> _Described:
        was_set = self._webhook is not None
        self._webhook = None
        self._queue = sorted(self._queue + self._webhook_undelivered, key=lambda item: item[0])
        self._webhook_undelivered = []
        if params.get("drop_pending_updates"):
            self._queue = []
        self._wake_pollers()
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")  # fmt: skip

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates()),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self.allowed_updates is not None:
                info["allowed_updates"] = list(self.allowed_updates)
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        raw = params.get("text")
        if raw is None or not str(raw).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        text = _render(str(raw), params.get("parse_mode")).strip()
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        markup, buttons = _parse_markup(params.get("reply_markup"))
        self._admit(chat_id)
        message = self._store(chat_id, text, str(raw), params, markup, buttons, "message")
        return self._message_json(message)

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "photo")

    async def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "document")

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id") and "chat_id" not in params:
            return True  # inline messages are not tracked
        chat_id = _chat_id(params)
        message = self._find_for_edit(chat_id, params)
        if message.kind != "message":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        raw = params.get("text")
        if raw is None or not str(raw).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        text = _render(str(raw), params.get("parse_mode")).strip()
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        # Like Telegram: no reply_markup in the edit removes the inline keyboard.
        markup, buttons = _parse_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise _ApiError(400, NOT_MODIFIED)
        self._admit(chat_id)
        message.raw_text, message.parse_mode = str(raw), params.get("parse_mode")
        self._apply_edit(message, text, markup, buttons)
        return self._message_json(message)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id") and "chat_id" not in params:
            return True
        chat_id = _chat_id(params)
        message = self._find_for_edit(chat_id, params)
        markup, buttons = _parse_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise _ApiError(400, NOT_MODIFIED)
        self._admit(chat_id)
        self._apply_edit(message, message.text, markup, buttons)
        return self._message_json(message)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise _ApiError(400, QUERY_INVALID)
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)  # a query can be answered once
        self.callback_answers[query_id] = params
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        chat_id = _chat_id(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_reachable(chat_id)
        self.chat_actions.append((chat_id, action, time.monotonic()))
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.commands.get(_commands_key(params), []))

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    # --- sending helpers ----------------------------------------------------------------

    def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat_id = _chat_id(params)
        upload = params.get(kind)
        if upload is None or upload == "":
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        data: bytes | None = None
        if isinstance(upload, dict):
            filename, size = upload.get("filename"), upload.get("size")
            data = upload.pop("_bytes", None)  # keep recorded params light
            if not size:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo" and data is not None and not data.startswith(IMAGE_MAGIC):
                raise _ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        else:
            filename, size = self._files.get(str(upload), (None, None))
        raw_caption = str(params.get("caption") or "")
        caption = _render(raw_caption, params.get("parse_mode")).strip()
        if len(caption) > MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")
        markup, buttons = _parse_markup(params.get("reply_markup"))
        self._admit(chat_id)
        message = self._store(chat_id, caption, raw_caption, params, markup, buttons, kind)
        message.filename, message.file_size = filename, size
        message.file_bytes = data if self.keep_file_bytes else None
        return self._message_json(message)

    def _store(
        self,
        chat_id: int,
        text: str,
        raw_text: str,
        params: dict[str, Any],
        markup: dict[str, Any] | None,
        buttons: Buttons,
        kind: str,
    ) -> SentMessage:
        now = time.monotonic()
        message = SentMessage(
            message_id=self._new_message_id(chat_id),
            chat_id=chat_id,
            text=text,
            buttons=buttons,
            kind=kind,
            parse_mode=params.get("parse_mode"),
            raw_text=raw_text,
            reply_markup=markup,
            sent_at=now,
            changed_at=now,
            history=[MessageVersion(text, buttons, now)],
        )
        self.messages[chat_id].append(message)
        self._count_send(chat_id, now)
        return message

    def _apply_edit(
        self, message: SentMessage, text: str, markup: dict[str, Any] | None, buttons: Buttons
    ) -> None:
        now = time.monotonic()
        message.text, message.reply_markup, message.buttons = text, markup, buttons
        message.changed_at = now
        message.history.append(MessageVersion(text, buttons, now))
        self._count_send(message.chat_id, now)

    def _count_send(self, chat_id: int, now: float) -> None:
        stats = self.stats
        stats.sent += 1
        stats.per_chat[chat_id] += 1
        stats.send_times.append(now)
        if stats.first_sent_at is None:
            stats.first_sent_at = now
        stats.last_sent_at = now
        self._touch(chat_id)

    def _find_for_edit(self, chat_id: int, params: dict[str, Any]) -> SentMessage:
        message_id = _as_int(params.get("message_id"), 0, "message_id")
        message = self.find_message(chat_id, message_id)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _check_reachable(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            self.stats.rejected_403 += 1
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if self.strict_chats and chat_id not in self._users:
            raise _ApiError(400, "Bad Request: chat not found")

    def _admit(self, chat_id: int) -> None:
        """Blocked chats get 403; over the flood limits, 429 with retry_after."""
        self._check_reachable(chat_id)
        limits = self.limits
        if limits is None:
            return
        now = time.monotonic()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        over_global = (
            limits.global_per_second is not None and len(self._window) >= limits.global_per_second
        )
        tokens, at = self._buckets.get(chat_id, (float(limits.per_chat_burst), now))
        if limits.per_chat_per_second is not None:
            tokens = min(
                float(limits.per_chat_burst), tokens + (now - at) * limits.per_chat_per_second
            )
        over_chat = limits.per_chat_per_second is not None and tokens < 1
        if over_global or over_chat:
            self._buckets[chat_id] = (tokens, now)
            self.stats.rejected_429 += 1
            self.stats.per_chat_429[chat_id] += 1
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {limits.retry_after}",
                retry_after=limits.retry_after,
            )
        self._window.append(now)
        self._buckets[chat_id] = (tokens - 1, now)

    # --- JSON shapes ----------------------------------------------------------------------

    def _bot_json(self) -> dict[str, Any]:
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        user = self._users.get(chat_id, {})
        chat: dict[str, Any] = {"id": chat_id, "type": "private"}
        chat["first_name"] = user.get("first_name", "Test")
        if user.get("username"):
            chat["username"] = user["username"]
        return chat

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_json(),
            "chat": self._chat_json(message.chat_id),
            "date": int(time.time() - (time.monotonic() - message.sent_at)),
        }
        if len(message.history) > 1:
            body["edit_date"] = int(time.time())
        if message.kind == "message":
            body["text"] = message.text
        else:
            if message.text:
                body["caption"] = message.text
            self._next_file += 1
            file_id = f"standin-{message.kind}-{self._next_file}"
            self._files[file_id] = (message.filename, message.file_size)
            common = {"file_id": file_id, "file_unique_id": f"u{self._next_file}"}
            if message.file_size:
                common["file_size"] = message.file_size
            if message.kind == "photo":
                body["photo"] = [{**common, "width": 800, "height": 600}]
            else:
                body["document"] = {**common, "file_name": message.filename or "document"}
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    # --- updates ------------------------------------------------------------------------

    def _remember_user(
        self, chat_id: int, first_name: str, username: str | None, language_code: str | None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[chat_id] = user
        return user

    def _chat_member_update(self, chat_id: int, old: str, new: str) -> None:
        user = self._users.get(chat_id) or {"id": chat_id, "is_bot": False, "first_name": "Test"}
        member = {"user": self._bot_json()}
        new_member = {**member, "status": new, **({"until_date": 0} if new == "kicked" else {})}
        old_member = {**member, "status": old, **({"until_date": 0} if old == "kicked" else {})}
        self._add_update(
            {
                "my_chat_member": {
                    "chat": self._chat_json(chat_id),
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                }
            },
            respect_allowed_updates=True,
        )

    def _set_allowed_updates(self, value: Any) -> None:
        if isinstance(value, list):
            self.allowed_updates = [str(v) for v in value] or None  # [] means "the default"

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next((k for k in update if k != "update_id"), None)
        if kind is None:
            return True
        if self.allowed_updates is None:
            return kind not in NOT_DEFAULT_UPDATES
        return kind in self.allowed_updates

    def _add_update(self, update: dict[str, Any], *, respect_allowed_updates: bool) -> Any:
        given = update.get("update_id")
        if isinstance(given, int) and not isinstance(given, bool):
            seq = given
            self._next_update = max(self._next_update, given + 1)
        else:
            seq = self._next_update
            self._next_update += 1
            if "update_id" not in update:
                update = {"update_id": seq, **update}  # first, as Telegram sends it
        if respect_allowed_updates and not self._is_allowed(update):
            self.dropped_updates.append(update)
            return update["update_id"]
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            self._open_queries.add(query["id"])  # the bot may answer raw queries too
        if self._webhook is not None:
            self._push(seq, update)
        else:
            self._queue.append((seq, update))
            self._wake_pollers()
        self._touch(None)
        return update["update_id"]

    def _push(self, seq: int, update: dict[str, Any]) -> None:
        self._webhook_inflight[seq] = update
        task = asyncio.get_running_loop().create_task(self._deliver(seq, update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, seq: int, update: dict[str, Any]) -> None:
        """POST one update like Telegram: JSON body, secret header, retries with backoff
        on a non-2xx answer or a connection error; undelivered updates stay pending."""
        webhook = self._webhook
        slots = webhook.slots if webhook is not None else asyncio.Semaphore(1)
        async with slots:
            for pause in (0.0, *self.webhook_retry_delays):
                if pause:
                    await asyncio.sleep(pause)
                current = self._webhook
                if current is None or self._client is None:
                    break  # deleted meanwhile: back to getUpdates
                headers = {"Content-Type": "application/json"}
                if current.secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = current.secret
                status, error = 0, None
                try:
                    async with self._client.post(
                        current.url, data=json.dumps(update), headers=headers
                    ) as response:
                        status = response.status
                        await response.read()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # refused, reset, timed out: like Telegram, retry
                    error = f"{type(exc).__name__}: {exc}"
                self.webhook_attempts.append(
                    WebhookAttempt(
                        update.get("update_id"), current.url, status, error, time.monotonic()
                    )
                )
                self._touch(None)
                if 200 <= status < 300:
                    self._webhook_inflight.pop(seq, None)
                    return
                reason = f"Wrong response from the webhook: {status}" if status else error
                self._webhook_last_error = (int(time.time()), str(reason))
        self._webhook_inflight.pop(seq, None)
        if self._webhook is None:
            self._queue.append((seq, update))
            self._queue.sort(key=lambda item: item[0])
            self._wake_pollers()
        else:
            self._webhook_undelivered.append((seq, update))
        self._touch(None)

    # --- waking -------------------------------------------------------------------------

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message[chat_id] += 1
        return self._next_message[chat_id]

    def _wake_pollers(self) -> None:
        event, self._poll_event = self._poll_event, None
        if event is not None:
            event.set()

    def _touch(self, chat_id: int | None) -> None:
        """Wake waiters: those of one chat (if given) and those watching everything."""
        if chat_id is not None:
            chat_event = self._chat_events.pop(chat_id, None)
            if chat_event is not None:
                chat_event.set()
        event, self._any_event = self._any_event, None
        if event is not None:
            event.set()

    async def _wait(self, probe: Callable[[], T | None], timeout: float, chat_id: int | None) -> T:  # noqa: ASYNC109
        """Re-run ``probe`` on every relevant change until it returns non-None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = probe()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            if chat_id is not None:
                event = self._chat_events.setdefault(chat_id, asyncio.Event())
            else:
                if self._any_event is None:
                    self._any_event = asyncio.Event()
                event = self._any_event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass


# --- parameter decoding -------------------------------------------------------------------


def _normalize(params: dict[str, Any]) -> dict[str, Any]:
    """Form bodies carry strings; give them the types a JSON body would have had."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass  # left as text; the method answers 400 if it matters
            elif key in INT_PARAMS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in BOOL_PARAMS and value in ("true", "false"):
                value = value == "true"
        out[key] = value
    return out


def _as_int(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: wrong parameter {name} specified") from None


def _chat_id(params: dict[str, Any]) -> int:
    value = params.get("chat_id")
    if value is None or value == "":
        raise _ApiError(400, "Bad Request: chat_id is empty")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ApiError(400, "Bad Request: chat not found")  # e.g. "@name" of no known chat
    return value


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _parse_markup(raw: Any) -> tuple[dict[str, Any] | None, Buttons]:
    """Validate reply_markup like Telegram; returns (markup, inline button rows)."""
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in raw:
        if any(key in raw for key in ("keyboard", "remove_keyboard", "force_reply")):
            return raw, []
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays')
    buttons: Buttons = []
    for row in rows:
        cells: list[tuple[str, str]] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String")  # fmt: skip
            if not button["text"]:
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")  # fmt: skip
            if not any(key in button for key in BUTTON_ACTIONS):
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")  # fmt: skip
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
            ):
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            cells.append((button["text"], data if isinstance(data, str) else ""))
        buttons.append(cells)
    return raw, buttons


# --- parse modes: render what the member sees, fail where Telegram fails -------------------

_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
     "code", "pre", "blockquote", "tg-emoji"}
)  # fmt: skip
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_HTML_ENTITY = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"}  # fmt: skip


def _entities_error(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _render(text: str, parse_mode: Any) -> str:
    mode = str(parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return _render_html(text)
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown(text)
    raise _ApiError(400, "Bad Request: unsupported parse_mode")


def _render_html(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _HTML_TAG.match(text, i)
            name = match.group(2).lower() if match else ""
            if match is None or name not in _HTML_TAGS:
                raise _entities_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}')  # fmt: skip
            if match.group(1):
                if not stack or stack[-1] != name:
                    expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                    raise _entities_error(f'Unmatched end tag at byte offset {_byte_offset(text, i)}, expected {expected}, found "</{name}>"')  # fmt: skip
                stack.pop()
            else:
                if name == "span" and "tg-spoiler" not in match.group(3):
                    raise _entities_error(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}')  # fmt: skip
                stack.append(name)
            i = match.end()
            continue
        if char == "&":
            match = _HTML_ENTITY.match(text, i)
            if match:
                out.append(_html_entity(match.group(1)))
                i = match.end()
                continue
        out.append(char)
        i += 1
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _html_entity(name: str) -> str:
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
    if name in named:
        return named[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    return chr(code) if 0 < code < 0x110000 else f"&{name};"


def _render_markdown_v2(text: str) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            out.append(text[i + 1] if i + 1 < n else char)
            i += 2
            continue
        if char == "`":
            marker = "```" if text.startswith("```", i) else "`"
            j, body = i + len(marker), []
            while j < n and not text.startswith(marker, j):
                step = 2 if text[j] == "\\" and j + 1 < n else 1
                body.append(text[j + step - 1])
                j += step
            if j >= n:
                kind = "Pre" if marker == "```" else "Code"
                raise _entities_error(f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}")  # fmt: skip
            content = "".join(body)
            if marker == "```" and "\n" in content:
                first, rest = content.split("\n", 1)
                if re.fullmatch(r"[\w+-]*", first):  # the language name line
                    content = rest
            out.append(content)
            i = j + len(marker)
            continue
        token = "__" if text.startswith("__", i) else "||" if text.startswith("||", i) else None
        if token is None and char in "*_~":
            token = char
        if token is not None:
            if stack and stack[-1][0] == token:
                stack.pop()
            elif any(open_ == token for open_, _ in stack):
                open_, at = stack[-1]
                raise _entities_error(f"Can't find end of {_MD2_NAMES[open_]} entity at byte offset {at}")  # fmt: skip
            else:
                stack.append((token, _byte_offset(text, i)))
            i += len(token)
            continue
        if char == "[":
            stack.append(("[", _byte_offset(text, i)))
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[" and text.startswith("(", i + 1):
            stack.pop()
            j = i + 2
            while j < n and text[j] != ")":
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise _entities_error(f"Can't find end of a URL at byte offset {_byte_offset(text, i + 2)}")  # fmt: skip
            i = j + 1
            continue
        if char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote
            continue
        if char in _MD2_RESERVED:
            raise _entities_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")  # fmt: skip
        out.append(char)
        i += 1
    if stack:
        open_, at = stack[-1]
        raise _entities_error(f"Can't find end of {_MD2_NAMES[open_]} entity at byte offset {at}")
    return "".join(out)


def _render_markdown(text: str) -> str:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if char in "*_`":
            marker = "```" if text.startswith("```", i) else char
            end = text.find(marker, i + len(marker))
            if end < 0:
                raise _entities_error(f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}")  # fmt: skip
            out.append(text[i + len(marker) : end])
            i = end + len(marker)
            continue
        if char == "[":
            link = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(text, i)
            if link:
                out.append(link.group(1))
                i = link.end()
                continue
        out.append(char)
        i += 1
    return "".join(out)
