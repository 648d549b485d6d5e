"""Which chat, contact, round or event the code running now is about, for the log.

The code that handles an inbound event, a round's scheduled step or one send opens a
``log_context`` with the ids it knows; ``bot.logs.ContextFilter`` copies them onto every
record logged inside it, and ``LOG_FORMAT=json`` writes them as fields, so one member's
conversation or one round's morning can be followed through the log. The ids live in a
context variable: asyncio tasks started inside the block inherit them, concurrent chats
never see each other's. Only ids go here, never names or texts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

# Every field a context may carry, in the order a JSON line lists them.
FIELDS = (
    "channel",
    "chat_id",
    "contact_id",
    "round_id",
    "event_id",
    "update_id",
    "outbox_id",
)

Value = int | str
_EMPTY: Mapping[str, Value] = MappingProxyType({})
_current: ContextVar[Mapping[str, Value]] = ContextVar("lyttepost_log_context", default=_EMPTY)


def _merged(
    channel: str | None,
    chat_id: int | None,
    contact_id: int | None,
    round_id: int | None,
    event_id: int | None,
    update_id: str | None,
    outbox_id: int | None,
    *,
    fresh: bool = False,
) -> Mapping[str, Value]:
    given = {
        "channel": channel,
        "chat_id": chat_id,
        "contact_id": contact_id,
        "round_id": round_id,
        "event_id": event_id,
        "update_id": update_id,
        "outbox_id": outbox_id,
    }
    known = {name: value for name, value in given.items() if value is not None}
    base = _EMPTY if fresh else _current.get()
    return MappingProxyType({**base, **known}) if known else base


@contextmanager
def log_context(
    *,
    channel: str | None = None,
    chat_id: int | None = None,
    contact_id: int | None = None,
    round_id: int | None = None,
    event_id: int | None = None,
    update_id: str | None = None,
    outbox_id: int | None = None,
    fresh: bool = False,
) -> Iterator[None]:
    """Records logged in the block (and in tasks started there) carry these ids.

    ``None`` leaves a field as the enclosing context had it; ``fresh`` starts from no
    fields at all (a unit of work of its own: an event, a round's step, a send, which
    must not carry ids of whatever started its task). On leaving the block the enclosing
    context is back, including anything ``add_to_log_context`` added inside.
    """
    token = _current.set(
        _merged(channel, chat_id, contact_id, round_id, event_id, update_id, outbox_id, fresh=fresh)
    )
    try:
        yield
    finally:
        _current.reset(token)


def add_to_log_context(
    *,
    channel: str | None = None,
    chat_id: int | None = None,
    contact_id: int | None = None,
    round_id: int | None = None,
    event_id: int | None = None,
    update_id: str | None = None,
    outbox_id: int | None = None,
) -> None:
    """An id learned partway through (the round a survey answer belongs to).

    Call it inside a ``log_context`` block: the block's end takes it away again.
    """
    _current.set(_merged(channel, chat_id, contact_id, round_id, event_id, update_id, outbox_id))


def current_log_context() -> Mapping[str, Value]:
    """The ids known here (read-only)."""
    return _current.get()
