"""A simulated world for the annual cycle: a fake clock, members who chat, and the outbox.

The cycle and the conversation share one controllable clock. ``run_until`` plays the
scheduler: it jumps from one trigger time to the next and runs what is due, exactly
as APScheduler's jobs would (``Cycle.catch_up`` runs the same ``advance``), so a whole
year takes a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.messages import OutgoingMessage
from dialogs.reminders import DEFAULT_REMINDERS, QuietRules, ReminderRule
from scheduler.cycle import Cycle
from services.contacts import add_contact
from services.conversation import Conversation
from services.inbound import Inbound, InboundProcessor
from services.rounds import Audience, create_round
from services.surveys import SurveyCatalog, latest_version, register_shipped_surveys
from storage.orm import Chat, Organisation, OutboxMessage

ZONE = ZoneInfo("Europe/Oslo")
_keys = count(1)


def oslo(text: str) -> datetime:
    """``2027-01-11 09:00`` Oslo time, as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


class FakeClock:
    """A clock the test moves; never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        assert moment >= self.now, "the clock does not go back"
        self.now = moment


class RealClock:
    """The wall clock, for tests that run the real APScheduler."""

    @property
    def now(self) -> datetime:
        return datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        raise AssertionError("the real clock cannot be set")


@dataclass
class Sent:
    """One outbox row as the test sees it."""

    address: str
    contact_id: int | None
    round_id: int | None
    kind: str
    status: str
    queued_at: datetime
    message: OutgoingMessage


class World:
    """Members, a conversation and a cycle on one database and one fake clock."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        start: datetime | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock: FakeClock | RealClock = FakeClock(start) if start else RealClock()
        self.catalog = SurveyCatalog()
        self.conversation = Conversation(catalog=self.catalog, zone=ZONE, clock=self.clock)
        self.processor = InboundProcessor(
            sessions, self.conversation.handle, self.conversation.apologise, lambda: None
        )
        self.cycle = self.new_cycle()
        self.contacts: dict[str, int] = {}  # org code -> contact id
        self.steps = 0

    def new_cycle(self) -> Cycle:
        """A fresh Cycle on the same database: what a restarted process would build."""
        return Cycle(self.sessions, self.catalog, ZONE, self.clock)

    async def setup(self, org_codes: list[str]) -> None:
        """Register one contact with a Telegram chat for each organisation."""
        async with self.sessions() as session, session.begin():
            await register_shipped_surveys(session)
            for code in org_codes:
                contact = await add_contact(session, code, f"Leder {code}", "kommunedirektor", None)
                session.add(
                    Chat(channel="telegram", address=f"chat-{code}", contact_id=contact.id,
                         user_id=f"user-{code}", last_seen_at=self.clock.now)
                )  # fmt: skip
                self.contacts[code] = contact.id

    async def make_round(
        self,
        title: str,
        opens: str,
        closes: str,
        *,
        audience: Audience | None = None,
        reminders: tuple[ReminderRule, ...] = DEFAULT_REMINDERS,
        quiet: QuietRules | None = None,
    ) -> int:
        async with self.sessions() as session, session.begin():
            version = await latest_version(session, "kvartalsvis-behov")
            assert version is not None
            round_ = await create_round(
                session, survey_version_id=version.id, title=title,
                audience=audience or Audience(), opens_at=oslo(opens), closes_at=oslo(closes),
                reminders=reminders, quiet=quiet,
            )  # fmt: skip
            return round_.id

    async def run_until(self, moment: datetime, cycle: Cycle | None = None) -> None:
        """Play the scheduler up to ``moment``: every trigger in time order, then stop there."""
        cycle = cycle or self.cycle
        for _ in range(10_000):
            upcoming = await cycle.next_trigger_at()
            if upcoming is None or upcoming > moment:
                break
            self.clock.set(max(self.clock.now, upcoming))
            await cycle.catch_up()
            self.steps += 1
        else:  # pragma: no cover - a trigger that never goes away is a bug
            raise AssertionError("the cycle keeps triggering without progress")
        self.clock.set(max(self.clock.now, moment))

    # --- members -----------------------------------------------------------------------

    async def say(self, code: str, text: str) -> None:
        await self._inbound(code, kind="text", text=text)

    async def press(self, code: str, payload: str) -> None:
        await self._inbound(code, kind="press", payload=payload)

    async def _inbound(self, code: str, **fields: str) -> None:
        event = Inbound(
            channel="telegram", address=f"chat-{code}", user_id=f"user-{code}",
            update_key=str(next(_keys)), **fields,
        )  # fmt: skip
        for row_id, _ in await self.processor.record([event]):
            await self.processor.process(row_id)

    async def last_buttons(self, code: str) -> list[str]:
        return [b.payload for b in (await self._last_message(code)).all_buttons()]

    async def answer(
        self, code: str, round_id: int, *, questions: int | None = None, submit: bool = True
    ) -> None:
        """Press the round's start button and answer like a member: all questions (and
        submit), or only the first ``questions`` (left in progress)."""
        from bot.console_session import choose_answer, middle

        await self.press(code, f"r:{round_id}")
        for answered in range(60):
            message = await self._last_message(code)
            payloads = [b.payload for b in message.all_buttons()]
            if questions is not None and answered >= questions:
                return
            if "c:submit" in payloads:
                if submit:
                    await self.press(code, "c:submit")
                return
            choice = choose_answer([(b.label, b.payload) for b in message.all_buttons()], middle)
            if choice is None:
                await self.say(code, "Vi trenger bedre samarbeid om digitalisering.")
            else:
                await self.press(code, choice)
        raise AssertionError(f"{code} did not reach the review")

    async def _last_message(self, code: str) -> OutgoingMessage:
        return next(m for m in reversed(await self.messages(code)) if m.message.buttons).message

    # --- what was sent -----------------------------------------------------------------

    async def outbox(self, *conditions: Any) -> list[Sent]:
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(*conditions).order_by(OutboxMessage.id)
                )
            ).all()
        return [
            Sent(r.address, r.contact_id, r.round_id, r.kind, r.status, r.created_at,
                 OutgoingMessage.model_validate(r.payload))
            for r in rows
        ]  # fmt: skip

    async def messages(self, code: str) -> list[Sent]:
        return await self.outbox(OutboxMessage.address == f"chat-{code}")

    async def of_kind(self, kind: str, round_id: int | None = None) -> list[Sent]:
        if round_id is None:
            return await self.outbox(OutboxMessage.kind == kind)
        return await self.outbox(OutboxMessage.kind == kind, OutboxMessage.round_id == round_id)

    async def org_ids(self, codes: list[str]) -> list[int]:
        async with self.sessions() as session:
            return list(
                await session.scalars(select(Organisation.id).where(Organisation.code.in_(codes)))
            )


def weekday_daytime(moment: datetime) -> bool:
    """Monday–Friday, 08:00–21:00 Oslo time: when members may be messaged by default."""
    local = moment.astimezone(ZONE)
    return local.weekday() < 5 and 8 <= local.hour < 21


def within(moment: datetime, start: datetime, span: timedelta) -> bool:
    return start <= moment <= start + span
