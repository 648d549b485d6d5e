"""A stand-in for the Telegram Bot API on loopback, for end-to-end tests and benchmarks.

It speaks enough of the Bot API for python-telegram-bot (form, multipart and JSON
bodies; Telegram-shaped answers), lets a test act as members (type text, press
buttons), records what the bot sent, and can enforce Telegram's flood limits (429 with
``retry_after``), block chats (403) and inject failures. No pytest imports: benches use it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

SEND_METHODS = {
    "sendmessage",
    "sendphoto",
    "senddocument",
    "editmessagetext",
    "editmessagereplymarkup",
}


@dataclass
class SentMessage:
    """A message the bot sent (edits update it in place and are listed in ``edits``)."""

    message_id: int
    chat_id: int
    text: str
    buttons: list[list[tuple[str, str]]]
    kind: str = "message"
    filename: str | None = None
    sent_at: float = field(default_factory=time.monotonic)
    edits: list[str] = field(default_factory=list)
    changed_at: float = field(default_factory=time.monotonic)


@dataclass
class RecordedCall:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    status: int
    at: float


@dataclass
class Limits:
    """Flood limits to enforce: a sliding one-second window overall, a token bucket per chat."""

    global_per_second: float | None = 30
    per_chat_per_second: float | None = 1
    per_chat_burst: int = 3
    retry_after: int = 1


class TelegramStandIn:
    """The fake Bot API server. ``async with TelegramStandIn() as api: api.base_url``."""

    def __init__(self, token: str | None = None, username: str = "lyttepost_test_bot") -> None:
        self.token = token
        self.username = username
        self.calls: list[RecordedCall] = []
        self.messages: dict[int, list[SentMessage]] = defaultdict(list)
        self.updates: list[dict[str, Any]] = []
        self.limits: Limits | None = None
        self.blocked: set[int] = set()
        self.failures: dict[str, deque[tuple[int, str, int | None]]] = defaultdict(deque)
        self.stats: dict[str, Any] = {"sent": 0, "rejected_429": 0, "per_chat": defaultdict(int)}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_attempts: list[int] = []
        self.latency = 0.0
        self._next_update = 1
        self._next_message = 1
        self._confirmed = 0
        self._changed = asyncio.Condition()
        self._chat_changed: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._window: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> TelegramStandIn:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._client = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> TelegramStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to give python-telegram-bot as ``base_url`` (it appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- configuration ----------------------------------------------------------------

    def enforce_limits(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_chat_burst: int = 3,
        retry_after: int = 1,
    ) -> None:
        """Answer 429 beyond these rates (None switches a limit off)."""
        self.limits = Limits(global_per_second, per_chat_per_second, per_chat_burst, retry_after)

    def block(self, chat_id: int) -> None:
        """The member blocked the bot: sends to the chat answer 403."""
        self.blocked.add(chat_id)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail like this."""
        for _ in range(times):
            self.failures[method.lower()].append((status, description, retry_after))

    # --- members ------------------------------------------------------------------------

    def user_sends_text(
        self, chat_id: int, text: str, *, first_name: str = "Test", username: str | None = None
    ) -> int:
        """A member types a message in their private chat with the bot."""
        user = {
            "id": chat_id,
            "is_bot": False,
            "first_name": first_name,
            **({"username": username} if username else {}),
        }
        message: dict[str, Any] = {
            "message_id": self._new_message_id(), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name}, "from": user, "text": text,
        }  # fmt: skip
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self.inject_raw_update({"message": message})

    def user_presses(self, chat_id: int, message_id: int, callback_data: str) -> int:
        """A member presses an inline button under one of the bot's messages."""
        sent = next((m for m in self.messages[chat_id] if m.message_id == message_id), None)
        message = {
            "message_id": message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"}, "text": sent.text if sent else "",
        }  # fmt: skip
        query = {
            "id": f"cb{self._next_update}", "chat_instance": str(chat_id), "data": callback_data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"}, "message": message,
        }  # fmt: skip
        return self.inject_raw_update({"callback_query": query})

    def inject_raw_update(self, update: dict[str, Any]) -> int:
        """Queue any update (odd or malformed ones too); returns its update_id."""
        update = dict(update)
        update.setdefault("update_id", self._next_update)
        self._next_update = (
            max(
                self._next_update,
                int(update["update_id"]) if isinstance(update["update_id"], int) else 0,
            )
            + 1
        )
        update_id = update["update_id"]
        if self.webhook_url:
            self._spawn(self._push(update))
        else:
            self.updates.append(update)
            self._spawn(self._notify())
        return update_id

    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self.updates)

    # --- what the bot sent ------------------------------------------------------------

    def messages_for(self, chat_id: int) -> list[SentMessage]:
        return list(self.messages[chat_id])

    def last_message(self, chat_id: int) -> SentMessage | None:
        return self.messages[chat_id][-1] if self.messages[chat_id] else None

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Any = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors the familiar test-helper signature
        after_count: int | None = None,
    ) -> SentMessage:
        """The first message (new, or edited) after ``after_count`` satisfying ``predicate``."""
        deadline = time.monotonic() + timeout
        start = after_count or 0
        async with self._changed:
            while True:
                for message in self.messages[chat_id][start:]:
                    if predicate is None or predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching message for chat {chat_id}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    async def wait_for_change(self, chat_id: int, since: float, within: float = 10.0) -> float:
        """Wait until a message in the chat is sent or edited after ``since`` (monotonic);
        returns when that happened. Wakes only this chat's waiter, so benchmarks scale."""
        deadline = time.monotonic() + within
        event = self._chat_changed[chat_id]
        while True:
            changed = [m.changed_at for m in self.messages[chat_id] if m.changed_at > since]
            if changed:
                return min(changed)
            event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply in chat {chat_id}")
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    @staticmethod
    def button(message: SentMessage, label_substring: str) -> str:
        return next(
            data for row in message.buttons for label, data in row if label_substring in label
        )

    def duplicates(self) -> list[tuple[int, str]]:
        seen: dict[tuple[int, str], int] = defaultdict(int)
        for chat_id, messages in self.messages.items():
            for message in messages:
                seen[(chat_id, message.text)] += 1
        return [key for key, n in seen.items() if n > 1]

    # --- the API ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.token is not None and request.match_info["token"] != self.token:
            return self._answer(
                method, params, {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        lowered = method.lower()
        if self.failures[lowered]:
            status, description, retry_after = self.failures[lowered].popleft()
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            return self._answer(method, params, body, status)
        handler = getattr(self, f"_api_{lowered}", None)
        if handler is None:
            return self._answer(
                method, params, {"ok": False, "error_code": 404, "description": "Not Found"}, 404
            )
        if lowered in SEND_METHODS:
            refusal = self._refuse_send(int(params.get("chat_id", 0)))
            if refusal is not None:
                return self._answer(method, params, refusal, refusal["error_code"])
        try:
            result = await handler(params)
        except _ApiError as error:
            return self._answer(
                method,
                params,
                {"ok": False, "error_code": error.status, "description": error.description},
                error.status,
            )
        if lowered in SEND_METHODS:
            chat_id = int(params["chat_id"])
            self.stats["sent"] += 1
            self.stats["per_chat"][chat_id] += 1
            self._chat_changed[chat_id].set()
            async with self._changed:
                self._changed.notify_all()
        return self._answer(method, params, {"ok": True, "result": result}, 200)

    def _answer(
        self, method: str, params: dict[str, Any], body: dict[str, Any], status: int
    ) -> web.Response:
        self.calls.append(RecordedCall(method, params, status, time.monotonic()))
        return web.json_response(body, status=status)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    data = await part.read()  # type: ignore[union-attr]
                    params[part.name] = {"filename": part.filename, "size": len(data)}  # type: ignore[union-attr]
                else:
                    params[part.name] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(dict(await request.post()))
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params

    def _refuse_send(self, chat_id: int) -> dict[str, Any] | None:
        if chat_id in self.blocked:
            return {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if self.limits is None:
            return None
        now = time.monotonic()
        limits = self.limits
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        too_many = (
            limits.global_per_second is not None and len(self._window) >= limits.global_per_second
        )
        tokens, at = self._buckets.get(chat_id, (float(limits.per_chat_burst), now))
        if limits.per_chat_per_second is not None:
            tokens = min(
                float(limits.per_chat_burst), tokens + (now - at) * limits.per_chat_per_second
            )
        if too_many or (limits.per_chat_per_second is not None and tokens < 1):
            self.stats["rejected_429"] += 1
            self._buckets[chat_id] = (tokens, now)
            return {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {limits.retry_after}",
                "parameters": {"retry_after": limits.retry_after},
            }
        self._window.append(now)
        self._buckets[chat_id] = (tokens - 1, now)
        return None

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 1,
            "is_bot": True,
            "first_name": "Lyttepost",
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            self._confirmed = max(self._confirmed, offset)
            self.updates = [
                u
                for u in self.updates
                if not isinstance(u.get("update_id"), int) or u["update_id"] >= offset
            ]
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        async with self._changed:
            while not self.updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        return self.updates[:limit]

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params["url"])
        self.webhook_secret = params.get("secret_token")
        for update in self.updates:
            self._spawn(self._push(update))
        self.updates = []
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = None
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._store(
            int(params["chat_id"]), text, params.get("reply_markup"), "message", None
        )

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "photo")

    async def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "document")

    def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        caption = str(params.get("caption") or "")
        if len(caption) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        upload = params.get(kind)
        filename = upload.get("filename") if isinstance(upload, dict) else None
        return self._store(
            int(params["chat_id"]), caption, params.get("reply_markup"), kind, filename
        )

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        text = str(params.get("text", ""))
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        buttons = self._buttons(params.get("reply_markup"))
        if text == message.text and buttons == message.buttons:
            raise _ApiError(400, "Bad Request: message is not modified")
        message.edits.append(message.text)
        message.text, message.buttons, message.changed_at = text, buttons, time.monotonic()
        return self._as_api(message)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        message.buttons, message.changed_at = (
            self._buttons(params.get("reply_markup")),
            time.monotonic(),
        )
        return self._as_api(message)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[Any]:
        return []

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    # --- helpers ------------------------------------------------------------------------

    def _buttons(self, markup: Any) -> list[list[tuple[str, str]]]:
        if not isinstance(markup, dict):
            return []
        rows = []
        for row in markup.get("inline_keyboard", []):
            cells = []
            for button in row:
                data = str(button.get("callback_data", ""))
                if len(data.encode()) > 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                cells.append((str(button.get("text", "")), data))
            rows.append(cells)
        return rows

    def _store(
        self, chat_id: int, text: str, markup: Any, kind: str, filename: str | None
    ) -> dict[str, Any]:
        message = SentMessage(
            self._new_message_id(), chat_id, text, self._buttons(markup), kind, filename
        )
        self.messages[chat_id].append(message)
        return self._as_api(message)

    def _find(self, params: dict[str, Any]) -> SentMessage:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = next((m for m in self.messages[chat_id] if m.message_id == message_id), None)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _as_api(self, message: SentMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id, "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private"},
            "from": {"id": 1, "is_bot": True, "first_name": "Lyttepost", "username": self.username},
        }  # fmt: skip
        if message.kind == "message":
            body["text"] = message.text
        else:
            body["caption"] = message.text
            body["document" if message.kind == "document" else "photo"] = (
                {"file_id": "f", "file_unique_id": "u", "file_name": message.filename or "file"}
                if message.kind == "document"
                else [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
            )
        if message.buttons:
            body["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": t, "callback_data": d} for t, d in row] for row in message.buttons
                ]
            }
        return body

    def _new_message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _push(self, update: dict[str, Any]) -> None:
        """Deliver to the webhook like Telegram: retry non-2xx answers with a short backoff."""
        assert self._client is not None
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        )
        for attempt in range(6):
            try:
                async with self._client.post(
                    str(self.webhook_url), json=update, headers=headers
                ) as response:
                    self.webhook_attempts.append(response.status)
                    if 200 <= response.status < 300:
                        return
            except Exception:  # connection refused while the bot restarts
                self.webhook_attempts.append(0)
            await asyncio.sleep(0.2 * 2**attempt)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
