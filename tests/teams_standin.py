"""A stand-in for the Bot Connector service that Microsoft Teams bots talk to, on loopback.

Teams and Azure Bot Service cannot be reached from CI, so this plays both sides of the
channel as a bot sees them:

* the channel's ``serviceUrl``: it answers the Bot Connector v3 REST calls that
  botbuilder's ``ConnectorClient`` makes (send, reply, update, delete, create
  conversation, members), records what the bot sent, and answers like Teams does:
  ``{"id": ...}`` on success, ``{"error": {"code", "message"}}`` on failure, 429 with
  ``Retry-After`` beyond Teams' documented bot rate limits, 403
  ``BotNotInConversationRoster`` after the app was uninstalled;
* the member: it POSTs Teams-shaped activities (text, Adaptive Card submits,
  install/uninstall events, redeliveries, malformed bodies) to the bot's endpoint.

No pytest imports: benches use it.

Usage::

    async with TeamsStandIn("http://127.0.0.1:3978/api/messages") as teams:
        await teams.user_sends_text(conversation, "start")
        reply = await teams.wait_for_activity(conversation)
        await teams.user_submits(conversation, reply.action_data("Ja"))
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import itertools
import json
import math
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote

from aiohttp import ClientSession, ClientTimeout, web

T = TypeVar("T")

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CHANNEL_ID = "msteams"
DEFAULT_APP_ID = "00000000-0000-4000-8000-00000000b075"
DEFAULT_TENANT_ID = "11111111-2222-4333-8444-555555555555"
# Teams refuses activities much above ~28 KB with 413 MessageSizeTooBig.
MAX_ACTIVITY_BYTES = 28 * 1024

# Teams' error codes and messages for each status (learn.microsoft.com, "Status codes from
# bot conversational APIs"); fail_next() and the built-in checks answer with these.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadArgument", "Invalid request payload."),
    401: ("BotNotRegistered", "No registration found for this bot."),
    403: ("BotNotInConversationRoster", "The bot is not part of the conversation roster."),
    404: ("ConversationNotFound", "Conversation not found."),
    405: ("MethodNotAllowed", "The requested resource does not support the HTTP method."),
    412: ("PreconditionFailed", "Precondition failed, please try again."),
    413: ("MessageSizeTooBig", "Message size too large."),
    429: ("Throttled", "Too many requests."),
    500: ("ServiceError", "Unknown error."),
    502: ("ServiceError", "Bad gateway."),
    503: ("ServiceUnavailable", "Service unavailable."),
    504: ("GatewayTimeout", "Gateway timeout."),
}
# What the Bot Connector's front door answers to a missing or wrong bearer token.
UNAUTHORIZED_BODY = {"message": "Authorization has been denied for this request."}

# Operations whose failures the stats count.
COUNTED_OPERATIONS = frozenset({"send", "reply", "update", "delete", "create_conversation"})


# --- records ------------------------------------------------------------------------------


@dataclass
class ActivityVersion:
    """One state of a sent activity: as first sent, then after each update."""

    text: str | None
    attachments: list[dict[str, Any]]
    suggested_actions: dict[str, Any] | None
    body: dict[str, Any]
    at: float


@dataclass
class SentActivity:
    """An activity the bot sent; updates change it in place and append to ``history``.

    ``via`` is how it came: "send" (POST .../activities, proactive), "reply" (POST
    .../activities/{id}) or "create_conversation" (the ``activity`` of POST /v3/conversations).
    A deleted activity stays in the list (indices stay stable) with ``deleted_at`` set.
    ``authorization`` is the request's Authorization header (None: there was none).
    Times are the stand-in's clock (``time.monotonic()`` unless given).
    """

    conversation_id: str
    activity_id: str
    type: str
    text: str | None
    attachments: list[dict[str, Any]]
    suggested_actions: dict[str, Any] | None
    reply_to_id: str | None
    authorization: str | None
    body: dict[str, Any]
    via: str = "send"
    sent_at: float = 0.0
    changed_at: float = 0.0
    deleted_at: float | None = None
    history: list[ActivityVersion] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def edits(self) -> list[ActivityVersion]:
        """The versions after each update (``history[0]`` is the original)."""
        return self.history[1:]

    @property
    def authorized(self) -> bool:
        return self.authorization is not None

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards' ``content`` among the attachments."""
        return [
            a.get("content") or {}
            for a in self.attachments
            if isinstance(a, dict) and a.get("contentType") == ADAPTIVE_CARD
        ]

    @property
    def card(self) -> dict[str, Any] | None:
        cards = self.cards
        return cards[0] if cards else None

    @property
    def card_texts(self) -> list[str]:
        """Every ``text`` in the Adaptive Cards (TextBlocks, RichText runs, facts' titles and
        values, choices' titles), in document order: what the member reads."""
        out: list[str] = []
        for card in self.cards:
            _collect_texts(card.get("body") or [], out)
        return out

    @property
    def actions(self) -> list[tuple[str, Any]]:
        """(title, data) of every Action.Submit / Action.Execute in the cards, including those
        inside ActionSets and ShowCards, in document order."""
        out: list[tuple[str, Any]] = []
        for card in self.cards:
            _collect_actions(card, out)
        return out

    @property
    def suggested_titles(self) -> list[str]:
        actions = (self.suggested_actions or {}).get("actions") or []
        return [str(a.get("title") or a.get("value") or "") for a in actions if isinstance(a, dict)]

    def action_data(self, title_substring: str) -> Any:
        """The ``data`` of the first card action whose title contains the substring: what
        Teams puts in the submit activity's ``value``."""
        for title, data in self.actions:
            if title_substring in title:
                return data
        raise LookupError(f"no card action with {title_substring!r} in {self.actions}")


@dataclass
class RecordedRequest:
    """One request the bot made to the service URL, with what we answered.

    ``path`` is relative to the service URL and percent-decoded per segment;
    ``operation`` is send | reply | update | delete | create_conversation | get_members |
    get_member | unknown.
    """

    method: str
    path: str
    operation: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    status: int
    response: Any
    authorization: str | None
    at: float
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class PostedActivity:
    """One POST to the bot's endpoint; status 0 means no HTTP answer (see ``error``)."""

    activity: dict[str, Any] | None  # None for raw bodies that are not a JSON object
    raw: bytes
    status: int
    response: bytes
    error: str | None
    at: float


@dataclass
class Limits:
    """Teams' documented bot limits (per bot per conversation, and per app per tenant).

    ``None`` switches one off. ``retry_after`` is the Retry-After seconds to answer; None
    computes when the fullest window frees a slot (rounded up, at least 1).
    """

    per_conversation_per_second: int | None = 7
    per_conversation_per_2s: int | None = 8
    per_conversation_per_30s: int | None = 60
    per_conversation_per_hour: int | None = 1800
    global_per_second: int | None = 50
    retry_after: int | None = 1

    def windows(self) -> list[tuple[float, int]]:
        pairs = [
            (1.0, self.per_conversation_per_second),
            (2.0, self.per_conversation_per_2s),
            (30.0, self.per_conversation_per_30s),
            (3600.0, self.per_conversation_per_hour),
        ]
        return [(window, limit) for window, limit in pairs if limit is not None]


@dataclass
class SendStats:
    """Counts for benchmarks and limit compliance.

    ``sent`` counts new activities (sends and replies, typing excluded), ``updated`` and
    ``deleted`` the other admitted operations. ``send_times`` / ``per_conversation_times``
    hold the time of every admitted conversation operation (send, reply, update, delete,
    typing), which is what the rate limits count. Readable as a mapping too.
    """

    sent: int = 0
    updated: int = 0
    deleted: int = 0
    typing: int = 0
    rejected_429: int = 0
    rejected_403: int = 0
    rejected_404: int = 0
    failed: int = 0  # any non-2xx answer to a conversation operation
    per_conversation: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    per_conversation_429: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    per_conversation_times: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    send_times: list[float] = field(default_factory=list)
    per_tenant_times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    first_sent_at: float | None = None
    last_sent_at: float | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    @property
    def operations(self) -> int:
        return len(self.send_times)

    def max_in_window(
        self,
        window: float = 1.0,
        conversation_id: str | None = None,
        *,
        tenant_id: str | None = None,
    ) -> int:
        """The most admitted operations inside any ``window``-second span, overall, in one
        conversation or in one tenant (limit compliance)."""
        if conversation_id is not None:
            times = self.per_conversation_times.get(conversation_id, [])
        elif tenant_id is not None:
            times = self.per_tenant_times.get(tenant_id, [])
        else:
            times = self.send_times
        best, start = 0, 0
        for end in range(len(times)):
            while times[end] - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


class _ApiError(Exception):
    """Raised inside handlers; becomes a Teams-shaped error answer."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        retry_after: int | None = None,
        body: Any = None,
    ) -> None:
        default_code, default_message = ERRORS.get(status, ("ServiceError", "Unknown error."))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        # Retry-After is whole seconds: urllib3 (botbuilder's transport) rejects "0.5".
        self.retry_after = math.ceil(retry_after) if retry_after is not None else None
        self._body = body
        super().__init__(f"{status} {self.code}: {self.message}")

    def body(self) -> Any:
        if self._body is not None:
            return self._body
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class _Failure:
    error: _ApiError
    conversation_id: str | None
    operations: frozenset[str] | None


# --- the server ---------------------------------------------------------------------------


class TeamsStandIn:
    """The fake Bot Connector service and Teams member.

    ``async with TeamsStandIn(bot_endpoint) as teams: teams.service_url``.

    ``bot_endpoint`` is where member activities go (settable later as ``teams.bot_endpoint``).
    ``service_path`` is the path part of the service URL: Teams' look like
    ``https://smba.trafficmanager.net/emea/``; "/emea/" here catches clients that drop it.
    ``clock`` timestamps records and drives the rate-limit windows (tests may fake it).
    """

    def __init__(
        self,
        bot_endpoint: str | None = None,
        *,
        bot_app_id: str = DEFAULT_APP_ID,
        bot_name: str = "Lyttepost",
        tenant_id: str = DEFAULT_TENANT_ID,
        service_path: str = "/",
        locale: str = "nb-NO",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_endpoint = bot_endpoint
        self.bot_app_id = bot_app_id
        self.bot_name = bot_name
        self.tenant_id = tenant_id
        self.locale = locale
        self.clock = clock
        self.service_path = "/" + service_path.strip("/") + "/" if service_path.strip("/") else "/"
        self.calls: list[RecordedRequest] = []
        self.activities: dict[str, list[SentActivity]] = defaultdict(list)
        self.typing: list[tuple[str, float]] = []  # (conversation id, time)
        self.created_conversations: list[dict[str, Any]] = []  # POST /v3/conversations bodies
        self.posted: list[PostedActivity] = []  # what the member side POSTed to the bot
        self.limits: Limits | None = None
        self.stats = SendStats()
        self.errors: list[str] = []  # stand-in bugs (answered 500); tests may assert empty
        self.latency = 0.0
        self.bot_timeout = 15.0  # Teams gives up on the bot's HTTP answer after ~15 s
        self.bot_authorization: str | None = None  # Authorization header for member POSTs
        self.send_status = 201  # POST sends/replies; botbuilder accepts 200, 201, 202
        self.max_activity_bytes = MAX_ACTIVITY_BYTES
        self.require_tenant = True  # POST /v3/conversations without a tenant id: 400
        self.port = 0
        self._token: str | None = None
        self._failures: deque[_Failure] = deque()
        self._removed: set[str] = set()  # bot uninstalled: 403 BotNotInConversationRoster
        self._gone: set[str] = set()  # conversation deleted: 404 ConversationNotFound
        self._users: dict[str, dict[str, Any]] = {}  # conversation id -> member account
        self._member_conversations: dict[str, str] = {}  # member id -> personal conversation
        self._conversation_times: dict[str, list[float]] = defaultdict(list)
        # Teams' overall limit is per app and tenant: admitted times per tenant.
        self._global_times: dict[str, deque[float]] = defaultdict(deque)
        self._tenants: dict[str, str] = {}  # conversation id -> tenant (default: tenant_id)
        self._ids = itertools.count(int(time.time() * 1000))
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._any_event: asyncio.Event | None = None
        self._conversation_events: dict[str, asyncio.Event] = {}

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> TeamsStandIn:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._client = ClientSession(timeout=ClientTimeout(total=self.bot_timeout))
        return self

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TeamsStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def service_url(self) -> str:
        """The channel's serviceUrl (ends with "/", as Teams sends it)."""
        return f"http://127.0.0.1:{self.port}{self.service_path}"

    base_url = service_url

    @property
    def bot_id(self) -> str:
        """The bot's channel account id as Teams writes it: "28:" + app id."""
        return f"28:{self.bot_app_id}"

    # --- configuration ------------------------------------------------------------------

    def enforce_limits(
        self,
        per_conversation_per_second: int | None = 7,
        per_conversation_per_2s: int | None = 8,
        per_conversation_per_30s: int | None = 60,
        global_per_second: int | None = 50,
        retry_after: int | None = 1,
        *,
        per_conversation_per_hour: int | None = 1800,
    ) -> None:
        """Answer 429 Throttled + Retry-After beyond these (None switches one limit off).

        Sends, replies, updates, deletes and typing count per conversation and globally;
        creating a conversation counts globally. Refused requests do not count.
        """
        self.limits = Limits(
            per_conversation_per_second,
            per_conversation_per_2s,
            per_conversation_per_30s,
            per_conversation_per_hour,
            global_per_second,
            retry_after,
        )
        self._conversation_times.clear()
        self._global_times.clear()

    def disable_limits(self) -> None:
        self.limits = None

    def require_auth(self, token: str | None) -> None:
        """Answer 401 to requests without ``Authorization: Bearer <token>`` (None: accept all)."""
        self._token = token

    def fail_next(
        self,
        n: int,
        status: int,
        retry_after: int | None = None,
        *,
        code: str | None = None,
        message: str | None = None,
        conversation_id: str | None = None,
        operations: Iterable[str] | None = None,
        body: Any = None,
    ) -> None:
        """The next ``n`` matching requests fail with ``status`` and Teams' error body for it
        (``code``/``message`` override; ``body`` replaces the body). Only requests to
        ``conversation_id`` / of ``operations`` (send, reply, update, delete,
        create_conversation, get_members, get_member) match, when given."""
        ops = frozenset(operations) if operations is not None else None
        for _ in range(n):
            error = _ApiError(status, code, message, retry_after=retry_after, body=body)
            self._failures.append(_Failure(error, conversation_id, ops))

    def delay(self, seconds: float) -> None:
        """Answer every request to the service URL ``seconds`` later."""
        self.latency = seconds

    def remove_bot(self, conversation_id: str) -> None:
        """The app was uninstalled (no events sent): sends answer 403 BotNotInConversationRoster."""
        self._removed.add(conversation_id)

    def restore_bot(self, conversation_id: str) -> None:
        self._removed.discard(conversation_id)
        self._gone.discard(conversation_id)

    def forget_conversation(self, conversation_id: str) -> None:
        """The conversation no longer exists: sends answer 404 ConversationNotFound."""
        self._gone.add(conversation_id)

    # --- identities ---------------------------------------------------------------------

    def set_tenant(self, conversation_id: str, tenant_id: str) -> None:
        """The member of this conversation belongs to another tenant (organisation)."""
        self._tenants[conversation_id] = tenant_id

    def tenant_of(self, conversation_id: str | None) -> str:
        if conversation_id is None:
            return self.tenant_id
        return self._tenants.get(conversation_id, self.tenant_id)

    @staticmethod
    def personal_conversation_id(user_id: str) -> str:
        """A Teams-looking 1:1 conversation id ("a:1..."), the same for the same member."""
        digest = hashlib.sha256(user_id.encode()).digest()
        return "a:1" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def user(self, conversation_id: str) -> dict[str, Any]:
        """The member of a conversation (made up from its id until set)."""
        known = self._users.get(conversation_id)
        if known is not None:
            return dict(known)
        digest = hashlib.sha256(conversation_id.encode()).digest()
        user_id = "29:1" + base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
        return {
            "id": user_id,
            "name": "Kari Nordmann",
            "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, user_id)),
        }

    def set_user(
        self,
        conversation_id: str,
        *,
        user_id: str | None = None,
        name: str | None = None,
        aad_object_id: str | None = None,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Fix who the member of a conversation is; returns the account."""
        account = self.user(conversation_id)
        if user_id is not None:
            account["id"] = user_id
            if aad_object_id is None and conversation_id not in self._users:
                account["aadObjectId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, user_id))
        if name is not None:
            account["name"] = name
        if aad_object_id is not None:
            account["aadObjectId"] = aad_object_id
        if email is not None:
            account["email"] = email
            account["userPrincipalName"] = email
        self._users[conversation_id] = account
        self._member_conversations[account["id"]] = conversation_id
        return dict(account)

    def conversation_reference(self, conversation_id: str) -> dict[str, Any]:
        """A ConversationReference (wire JSON) for proactive sends to the conversation:
        ``ConversationReference().deserialize(teams.conversation_reference(c))``."""
        user = self.user(conversation_id)
        return {
            "user": {"id": user["id"], "name": user["name"], "aadObjectId": user["aadObjectId"]},
            "bot": {"id": self.bot_id, "name": self.bot_name},
            "conversation": self._conversation_json(conversation_id),
            "channelId": CHANNEL_ID,
            "serviceUrl": self.service_url,
            "locale": self.locale,
        }

    # --- the member side ----------------------------------------------------------------

    def activity_from_user(
        self,
        conversation_id: str,
        activity_type: str = "message",
        *,
        user_id: str | None = None,
        name: str | None = None,
        aad_object_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A Teams-shaped activity from the member, not yet posted (tests may tweak it)."""
        if user_id is not None or name is not None or aad_object_id is not None:
            user = self.set_user(
                conversation_id, user_id=user_id, name=name, aad_object_id=aad_object_id
            )
        else:
            user = self.user(conversation_id)
        now = datetime.now(UTC)
        activity: dict[str, Any] = {
            "type": activity_type,
            "id": str(next(self._ids)),
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "localTimestamp": now.astimezone().isoformat(),
            "localTimezone": "Europe/Oslo",
            "serviceUrl": self.service_url,
            "channelId": CHANNEL_ID,
            "from": {"id": user["id"], "name": user["name"], "aadObjectId": user["aadObjectId"]},
            "conversation": self._conversation_json(conversation_id),
            "recipient": {"id": self.bot_id, "name": self.bot_name},
            "entities": [
                {
                    "type": "clientInfo",
                    "locale": self.locale,
                    "country": "NO",
                    "platform": "Web",
                    "timezone": "Europe/Oslo",
                }
            ],
            "channelData": {"tenant": {"id": self.tenant_of(conversation_id)}},
            "locale": self.locale,
        }
        activity.update(fields)
        return activity

    async def user_sends_text(
        self,
        conversation_id: str,
        text: str,
        *,
        user_id: str | None = None,
        name: str | None = None,
        aad_object_id: str | None = None,
    ) -> int:
        """The member types a message in the 1:1 chat; returns the bot's HTTP status."""
        activity = self.activity_from_user(
            conversation_id,
            "message",
            user_id=user_id,
            name=name,
            aad_object_id=aad_object_id,
            text=text,
            textFormat="plain",
        )
        return await self.post_activity(activity)

    async def user_submits(
        self,
        conversation_id: str,
        value: dict[str, Any],
        *,
        reply_to_id: str | None = None,
        user_id: str | None = None,
        name: str | None = None,
    ) -> int:
        """The member presses an Adaptive Card Action.Submit: a message activity with empty
        text and the action's data (merged with the inputs) as ``value``. ``reply_to_id``
        is the card's activity id, as Teams sends it."""
        fields: dict[str, Any] = {"text": "", "value": value}
        if reply_to_id is not None:
            fields["replyToId"] = reply_to_id
        activity = self.activity_from_user(
            conversation_id, "message", user_id=user_id, name=name, **fields
        )
        activity["channelData"]["source"] = {"name": "message"}
        if reply_to_id is not None:
            activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
        return await self.post_activity(activity)

    async def install(
        self,
        conversation_id: str,
        *,
        user_id: str | None = None,
        name: str | None = None,
        events: Sequence[str] = ("conversationUpdate", "installationUpdate"),
    ) -> list[int]:
        """The member adds the app: ``conversationUpdate`` with the bot in ``membersAdded``
        and ``installationUpdate`` action "add" (in ``events`` order). Sends work again.
        Returns the bot's HTTP status for each event."""
        self.restore_bot(conversation_id)
        statuses = []
        for event in events:
            if event == "conversationUpdate":
                activity = self.activity_from_user(
                    conversation_id,
                    "conversationUpdate",
                    user_id=user_id,
                    name=name,
                    membersAdded=[{"id": self.bot_id}],
                )
            elif event == "installationUpdate":
                activity = self.activity_from_user(
                    conversation_id, "installationUpdate", user_id=user_id, name=name, action="add"
                )
            else:
                raise ValueError(f"unknown install event {event!r}")
            activity["channelData"]["source"] = {"name": "message"}
            statuses.append(await self.post_activity(activity))
        return statuses

    async def uninstall(
        self,
        conversation_id: str,
        *,
        events: Sequence[str] = ("installationUpdate", "conversationUpdate"),
    ) -> list[int]:
        """The member removes the app: ``installationUpdate`` action "remove" and
        ``conversationUpdate`` with the bot in ``membersRemoved``. From then on sends to
        the conversation answer 403 BotNotInConversationRoster (like Teams)."""
        statuses = []
        for event in events:
            if event == "installationUpdate":
                activity = self.activity_from_user(
                    conversation_id, "installationUpdate", action="remove"
                )
            elif event == "conversationUpdate":
                activity = self.activity_from_user(
                    conversation_id, "conversationUpdate", membersRemoved=[{"id": self.bot_id}]
                )
            else:
                raise ValueError(f"unknown uninstall event {event!r}")
            statuses.append(await self.post_activity(activity))
        self.remove_bot(conversation_id)
        return statuses

    async def post_activity(self, activity: dict[str, Any]) -> int:
        """POST one activity (as given) to the bot's endpoint; returns the HTTP status."""
        return await self._post(json.dumps(activity).encode(), None, activity)

    async def redeliver(self, activity: dict[str, Any] | None = None) -> int:
        """Send the same activity again (same ``id``), as Teams does when the bot was slow
        or answered an error. Default: the last posted one."""
        if activity is None:
            activity = self.last_posted
            if activity is None:
                raise LookupError("nothing was posted yet")
        return await self.post_activity(activity)

    async def post_raw(
        self, body: bytes | str | dict[str, Any] | list[Any], headers: dict[str, str] | None = None
    ) -> int:
        """POST any body (malformed JSON, a non-activity, no Content-Type...) to the bot.
        Dicts and lists go as JSON; ``headers`` replace the default Content-Type."""
        if isinstance(body, (dict, list)):
            raw = json.dumps(body).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body
        activity = body if isinstance(body, dict) else None
        return await self._post(raw, headers, activity)

    @property
    def last_posted(self) -> dict[str, Any] | None:
        """The last activity posted to the bot (raw posts that were no JSON object skipped)."""
        for posted in reversed(self.posted):
            if posted.activity is not None:
                return posted.activity
        return None

    def posted_of_type(self, activity_type: str) -> list[dict[str, Any]]:
        return [
            p.activity
            for p in self.posted
            if p.activity is not None and p.activity.get("type") == activity_type
        ]

    async def _post(
        self, raw: bytes, headers: dict[str, str] | None, activity: dict[str, Any] | None
    ) -> int:
        if not self.bot_endpoint:
            raise RuntimeError("no bot_endpoint to post to")
        if self._client is None:
            raise RuntimeError("the stand-in is not started")
        sent_headers = (
            {"Content-Type": "application/json; charset=utf-8"}
            if headers is None
            else dict(headers)
        )
        if self.bot_authorization and not any(k.lower() == "authorization" for k in sent_headers):
            sent_headers["Authorization"] = self.bot_authorization
        status, response, error = 0, b"", None
        try:
            async with self._client.post(
                self.bot_endpoint,
                data=raw,
                headers=sent_headers,
                timeout=ClientTimeout(total=self.bot_timeout),
            ) as answer:
                status = answer.status
                response = await answer.read()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, reset, timed out: no status
            error = f"{type(exc).__name__}: {exc}"
        self.posted.append(PostedActivity(activity, raw, status, response, error, self.clock()))
        self._touch(None)
        return status

    # --- what the bot did ---------------------------------------------------------------

    def messages_for(self, conversation_id: str) -> list[SentActivity]:
        """Activities the bot sent to the conversation, in order (typing excluded, deleted
        ones included with ``deleted_at``)."""
        return list(self.activities.get(conversation_id, ()))

    def last_activity(self, conversation_id: str) -> SentActivity | None:
        activities = self.activities.get(conversation_id)
        return activities[-1] if activities else None

    def find_activity(self, conversation_id: str, activity_id: str) -> SentActivity | None:
        return next(
            (a for a in self.activities.get(conversation_id, ()) if a.activity_id == activity_id),
            None,
        )

    def calls_to(self, operation: str) -> list[RecordedRequest]:
        return [c for c in self.calls if c.operation == operation]

    async def wait_for_activity(
        self,
        conversation_id: str,
        predicate: Callable[[SentActivity], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the familiar test-helper signature
        after_count: int | None = None,
    ) -> SentActivity:
        """The first activity at index >= ``after_count`` whose current state satisfies
        ``predicate``; waits for new activities and updates. Raises TimeoutError."""

        def probe() -> SentActivity | None:
            for activity in self.activities.get(conversation_id, ())[after_count or 0 :]:
                if predicate is None or predicate(activity):
                    return activity
            return None

        try:
            return await self._wait(probe, timeout, conversation_id)
        except TimeoutError:
            seen = [
                (a.text or "")[:60] or f"<{a.type}, {len(a.attachments)} attachments>"
                for a in self.messages_for(conversation_id)[-5:]
            ]
            raise TimeoutError(
                f"no matching activity in {conversation_id} within {timeout}s; last: {seen}"
            ) from None

    wait_for_message = wait_for_activity

    async def wait_for_change(
        self, conversation_id: str, since: float, within: float = 10.0
    ) -> float:
        """Wait until an activity in the conversation is sent, updated or deleted after
        ``since`` (the stand-in's clock); returns when that happened."""

        def probe() -> float | None:
            changed = [
                a.changed_at
                for a in self.activities.get(conversation_id, ())
                if a.changed_at > since
            ]
            return min(changed) if changed else None

        try:
            return await self._wait(probe, within, conversation_id)
        except TimeoutError:
            raise TimeoutError(f"no change in {conversation_id} within {within}s") from None

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - same shape as wait_for_activity
    ) -> None:
        """Wait until ``condition()`` holds; re-checked whenever the stand-in's state changes
        (a request, an activity, a post to the bot)."""
        await self._wait(lambda: True if condition() else None, timeout, None)

    def duplicates(self) -> list[tuple[str, str]]:
        """(conversation id, text or card JSON) the bot sent more than once (updates and
        deleted activities don't count): what a retry that should not have been looks like."""
        seen: dict[tuple[str, str], int] = defaultdict(int)
        for conversation_id, activities in self.activities.items():
            for activity in activities:
                if activity.deleted:
                    continue
                key = activity.text or json.dumps(activity.attachments, sort_keys=True)
                seen[(conversation_id, key)] += 1
        return [key for key, n in seen.items() if n > 1]

    # --- HTTP ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        raw_path = request.raw_path.split("?", 1)[0]
        authorization = request.headers.get("Authorization")
        relative = (
            "/" + raw_path[len(self.service_path) :]
            if raw_path.startswith(self.service_path)
            else None
        )
        segments = (
            [unquote(s) for s in relative.strip("/").split("/")] if relative is not None else []
        )
        path = "/" + "/".join(segments) if relative is not None else raw_path
        operation, conversation_id, activity_id = _route(request.method, segments)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        if self.latency:
            await asyncio.sleep(self.latency)

        def answer(
            status: int, response: Any, headers: dict[str, str] | None = None
        ) -> web.Response:
            retry_after = (
                int(headers["Retry-After"]) if headers and "Retry-After" in headers else None
            )
            self.calls.append(
                RecordedRequest(
                    request.method,
                    path,
                    operation,
                    conversation_id,
                    activity_id,
                    body,
                    status,
                    response,
                    authorization,
                    self.clock(),
                    retry_after,
                )
            )
            if operation in COUNTED_OPERATIONS and status >= 300:
                self._count_failure(conversation_id, status)
            self._touch(conversation_id)
            return web.json_response(response, status=status, headers=headers)

        if self._token is not None and authorization != f"Bearer {self._token}":
            return answer(401, dict(UNAUTHORIZED_BODY))
        if operation == "unknown":
            error = _ApiError(404, "NotFound", f"No route for {request.method} {path}")
            return answer(404, error.body())
        if operation == "method_not_allowed":
            return answer(405, _ApiError(405).body())
        try:
            self._scripted_failure(operation, conversation_id)
            status, response = self._dispatch(
                operation, conversation_id, activity_id, body, raw, authorization
            )
        except _ApiError as error:
            headers = (
                {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
            )
            return answer(error.status, error.body(), headers)
        except Exception as error:  # a stand-in bug: answer 500 and keep it visible
            self.errors.append(f"{request.method} {path}: {type(error).__name__}: {error}")
            return answer(500, _ApiError(500, message=f"Stand-in error: {error}").body())
        return answer(status, response)

    def _scripted_failure(self, operation: str, conversation_id: str | None) -> None:
        for failure in self._failures:
            if failure.conversation_id is not None and failure.conversation_id != conversation_id:
                continue
            if failure.operations is not None and operation not in failure.operations:
                continue
            self._failures.remove(failure)
            raise failure.error

    def _dispatch(
        self,
        operation: str,
        conversation_id: str | None,
        activity_id: str | None,
        body: Any,
        raw: bytes,
        authorization: str | None,
    ) -> tuple[int, Any]:
        if operation == "create_conversation":
            return self._create_conversation(body, raw, authorization)
        assert conversation_id is not None
        self._check_conversation(conversation_id)
        if operation == "get_members":
            return 200, [self._member_json(conversation_id)]
        if operation == "get_member":
            member = self._member_json(conversation_id)
            if activity_id != member["id"]:
                raise _ApiError(404, "MemberNotFoundInConversation", "Member not found in conversation.")  # fmt: skip
            return 200, member
        if operation == "delete":
            assert activity_id is not None
            target = self._find_live(conversation_id, activity_id)
            self._admit(conversation_id)
            now = self.clock()
            target.deleted_at = now
            target.changed_at = now
            self.stats.deleted += 1
            return 200, {}
        activity = _activity_body(body)
        self._check_size(raw)
        if operation == "update":
            assert activity_id is not None
            target = self._find_live(conversation_id, activity_id)
            _validate_activity(activity)
            self._admit(conversation_id)
            self._apply_update(target, activity)
            return 200, {"id": activity_id}
        # send or reply
        _validate_activity(activity)
        reply_to = activity_id if operation == "reply" else activity.get("replyToId")
        self._admit(conversation_id)
        if activity.get("type") == "typing":
            self.typing.append((conversation_id, self.clock()))
            self.stats.typing += 1
            return self.send_status, {"id": self._new_activity_id()}
        stored = self._store(conversation_id, activity, reply_to, authorization, operation)
        return self.send_status, {"id": stored.activity_id}

    def _create_conversation(
        self, body: Any, raw: bytes, authorization: str | None
    ) -> tuple[int, Any]:
        params = _activity_body(body)
        members = params.get("members")
        if not isinstance(members, list) or not members:
            raise _ApiError(400, message="Conversation must have members.")
        member = members[0]
        if not isinstance(member, dict) or not member.get("id"):
            raise _ApiError(400, message="Member id is required.")
        channel_data = params.get("channelData") or {}
        tenant = params.get("tenantId") or (
            (channel_data.get("tenant") or {}).get("id") if isinstance(channel_data, dict) else None
        )
        if self.require_tenant and not tenant:
            raise _ApiError(400, message="Tenant id is required in channelData.tenant.id or tenantId.")  # fmt: skip
        member_id = str(member["id"])
        conversation_id = self._member_conversations.get(member_id)
        if conversation_id is None:
            conversation_id = self.personal_conversation_id(member_id)
            self.set_user(
                conversation_id,
                user_id=member_id,
                name=member.get("name") or None,
                aad_object_id=member.get("aadObjectId") or None,
            )
        self._check_conversation(conversation_id)
        self._admit(None)
        self.created_conversations.append(params)
        response: dict[str, Any] = {"id": conversation_id}
        activity = params.get("activity")
        if isinstance(activity, dict):
            self._check_size(raw)
            _validate_activity(activity)
            stored = self._store(
                conversation_id, activity, None, authorization, "create_conversation"
            )
            response["activityId"] = stored.activity_id
        return 201, response

    # --- sending helpers ----------------------------------------------------------------

    def _check_conversation(self, conversation_id: str) -> None:
        if conversation_id in self._gone:
            raise _ApiError(404, "ConversationNotFound")
        if conversation_id in self._removed:
            raise _ApiError(403, "BotNotInConversationRoster")

    def _check_size(self, raw: bytes) -> None:
        if len(raw) > self.max_activity_bytes:
            raise _ApiError(413)

    def _find_live(self, conversation_id: str, activity_id: str) -> SentActivity:
        target = self.find_activity(conversation_id, activity_id)
        if target is None or target.deleted:
            raise _ApiError(404, "NotFound", "Activity not found.")
        return target

    def _new_activity_id(self) -> str:
        return f"1:{next(self._ids)}"

    def _store(
        self,
        conversation_id: str,
        activity: dict[str, Any],
        reply_to_id: str | None,
        authorization: str | None,
        via: str,
    ) -> SentActivity:
        now = self.clock()
        text, attachments, suggested = _content(activity)
        stored = SentActivity(
            conversation_id=conversation_id,
            activity_id=self._new_activity_id(),
            type=str(activity.get("type")),
            text=text,
            attachments=attachments,
            suggested_actions=suggested,
            reply_to_id=reply_to_id,
            authorization=authorization,
            body=activity,
            via=via,
            sent_at=now,
            changed_at=now,
            history=[ActivityVersion(text, attachments, suggested, activity, now)],
        )
        self.activities[conversation_id].append(stored)
        self.stats.sent += 1
        return stored

    def _apply_update(self, target: SentActivity, activity: dict[str, Any]) -> None:
        now = self.clock()
        text, attachments, suggested = _content(activity)
        target.text, target.attachments, target.suggested_actions = text, attachments, suggested
        target.body = activity
        target.changed_at = now
        target.history.append(ActivityVersion(text, attachments, suggested, activity, now))
        self.stats.updated += 1

    def _count_failure(self, conversation_id: str | None, status: int) -> None:
        stats = self.stats
        stats.failed += 1
        if status == 429:
            stats.rejected_429 += 1
            if conversation_id is not None:
                stats.per_conversation_429[conversation_id] += 1
        elif status == 403:
            stats.rejected_403 += 1
        elif status == 404:
            stats.rejected_404 += 1

    def _admit(self, conversation_id: str | None) -> None:
        """Over the limits: 429 Throttled with Retry-After. Otherwise count the operation."""
        now = self.clock()
        limits = self.limits
        if limits is not None:
            waits: list[float] = []
            overall = self._global_times[self.tenant_of(conversation_id)]
            while overall and now - overall[0] >= 1.0:
                overall.popleft()
            if limits.global_per_second is not None and len(overall) >= limits.global_per_second:
                waits.append(overall[-limits.global_per_second] + 1.0 - now)
            if conversation_id is not None:
                times = self._conversation_times[conversation_id]
                for window, limit in limits.windows():
                    start = bisect.bisect_right(times, now - window)
                    if len(times) - start >= limit:
                        waits.append(times[len(times) - limit] + window - now)
            if waits:
                retry_after = limits.retry_after
                if retry_after is None:
                    retry_after = max(1, math.ceil(max(waits)))
                raise _ApiError(429, retry_after=retry_after)
            overall.append(now)
            if conversation_id is not None:
                times = self._conversation_times[conversation_id]
                times.append(now)
                horizon = max((w for w, _ in limits.windows()), default=0.0)
                drop = bisect.bisect_right(times, now - horizon)
                if drop > 1000:
                    del times[:drop]
        if conversation_id is not None:
            stats = self.stats
            stats.per_conversation[conversation_id] += 1
            stats.per_conversation_times[conversation_id].append(now)
            stats.send_times.append(now)
            stats.per_tenant_times[self.tenant_of(conversation_id)].append(now)
            if stats.first_sent_at is None:
                stats.first_sent_at = now
            stats.last_sent_at = now

    # --- JSON shapes ----------------------------------------------------------------------

    def _conversation_json(self, conversation_id: str) -> dict[str, Any]:
        kind = "personal"
        if conversation_id.startswith("19:"):
            channel = any(m in conversation_id for m in ("@thread.tacv2", "@thread.skype"))
            kind = "channel" if channel else "groupChat"
        conversation: dict[str, Any] = {
            "conversationType": kind,
            "tenantId": self.tenant_of(conversation_id),
            "id": conversation_id,
        }
        if kind != "personal":
            conversation["isGroup"] = True
        return conversation

    def _member_json(self, conversation_id: str) -> dict[str, Any]:
        user = self.user(conversation_id)
        given, _, family = str(user.get("name", "")).partition(" ")
        member = {
            "id": user["id"],
            "name": user["name"],
            "aadObjectId": user["aadObjectId"],
            "givenName": given,
            "surname": family,
            "tenantId": self.tenant_of(conversation_id),
            "userRole": "user",
        }
        if user.get("email"):
            member["email"] = user["email"]
            member["userPrincipalName"] = user["userPrincipalName"]
        return member

    # --- waking -------------------------------------------------------------------------

    def _touch(self, conversation_id: str | None) -> None:
        """Wake waiters: those of one conversation (if given) and those watching everything."""
        if conversation_id is not None:
            event = self._conversation_events.pop(conversation_id, None)
            if event is not None:
                event.set()
        any_event, self._any_event = self._any_event, None
        if any_event is not None:
            any_event.set()

    async def _wait(
        self,
        probe: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        conversation_id: str | None,
    ) -> T:
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
            if conversation_id is not None:
                event = self._conversation_events.setdefault(conversation_id, asyncio.Event())
            else:
                if self._any_event is None:
                    self._any_event = asyncio.Event()
                event = self._any_event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass


# --- routing and validation ---------------------------------------------------------------


def _route(method: str, segments: list[str]) -> tuple[str, str | None, str | None]:
    """(operation, conversation id, activity or member id) of a decoded path."""
    if len(segments) < 2 or segments[0] != "v3" or segments[1] != "conversations":
        return "unknown", None, None
    rest = segments[2:]
    if not rest:
        return ("create_conversation" if method == "POST" else "method_not_allowed"), None, None
    conversation_id = rest[0]
    if not conversation_id:
        return "unknown", None, None
    table: dict[tuple[int, str, str], str] = {
        (2, "activities", "POST"): "send",
        (3, "activities", "POST"): "reply",
        (3, "activities", "PUT"): "update",
        (3, "activities", "DELETE"): "delete",
        (2, "members", "GET"): "get_members",
        (3, "members", "GET"): "get_member",
    }
    if len(rest) not in (2, 3) or rest[1] not in ("activities", "members"):
        return "unknown", conversation_id, None
    target = rest[2] if len(rest) == 3 else None
    if len(rest) == 3 and not target:
        return "unknown", conversation_id, None
    operation = table.get((len(rest), rest[1], method))
    if operation is None:
        return "method_not_allowed", conversation_id, target
    return operation, conversation_id, target


def _activity_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _ApiError(400, "BadSyntax", "The request body is not a JSON object.")
    return body


def _validate_activity(activity: dict[str, Any]) -> None:
    kind = activity.get("type")
    if not isinstance(kind, str) or not kind:
        raise _ApiError(400, message="Activity type is required.")
    attachments = activity.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list):
            raise _ApiError(400, message="Attachments must be an array.")
        for attachment in attachments:
            if not isinstance(attachment, dict) or not attachment.get("contentType"):
                raise _ApiError(400, message="Attachment contentType is required.")
            if attachment["contentType"] == ADAPTIVE_CARD and not isinstance(
                attachment.get("content"), dict
            ):
                raise _ApiError(400, message="Adaptive Card content must be an object.")
    if kind == "message":
        if not activity.get("text") and not attachments:
            raise _ApiError(400, message="Message must have text or attachments.")


def _content(activity: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]], dict | None]:
    text = activity.get("text")
    attachments = activity.get("attachments") or []
    suggested = activity.get("suggestedActions")
    return (
        text if isinstance(text, str) else None,
        list(attachments),
        suggested if isinstance(suggested, dict) else None,
    )


def _collect_texts(elements: Any, out: list[str]) -> None:
    if isinstance(elements, list):
        for element in elements:
            _collect_texts(element, out)
        return
    if not isinstance(elements, dict):
        return
    kind = elements.get("type")
    if kind in ("TextBlock", "TextRun") and isinstance(elements.get("text"), str):
        out.append(elements["text"])
    if kind == "FactSet":
        for fact in elements.get("facts") or []:
            if isinstance(fact, dict):
                out.extend(str(fact.get(k, "")) for k in ("title", "value"))
    if kind == "Input.ChoiceSet":
        for choice in elements.get("choices") or []:
            if isinstance(choice, dict) and "title" in choice:
                out.append(str(choice["title"]))
    for key in ("items", "columns", "inlines", "body", "actions", "card"):
        _collect_texts(elements.get(key), out)


def _collect_actions(element: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(element, list):
        for item in element:
            _collect_actions(item, out)
        return
    if not isinstance(element, dict):
        return
    kind = element.get("type")
    if kind in ("Action.Submit", "Action.Execute"):
        out.append((str(element.get("title") or ""), element.get("data")))
    for key in ("body", "items", "columns", "actions", "card", "selectAction"):
        _collect_actions(element.get(key), out)
