"""One round made by hand (``lyttepost rounds create``), beside the rounds of the annual plan.

Its deadline must lie ahead, it asks the newest version of its survey, and a round
whose opening is not in the future opens at once, inviting those already registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.lifecycle import open_round
from services.rounds import DEFAULT_RETENTION_MONTHS, Audience, RoundError, create_round
from services.surveys import latest_version
from storage.orm import Round


class UnknownSurvey(RoundError):
    """No survey with this key in the database."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no survey {key!r}")
        self.key = key


def require_deadline_ahead(closes_at: datetime, now: datetime) -> None:
    """``RoundError`` for a deadline that has passed: nobody could answer such a round."""
    if closes_at <= now:
        raise RoundError("the closing date has passed")


@dataclass(frozen=True)
class RoundByHand:
    """The round made, the survey version it asks, and how many invitations were queued."""

    round: Round
    survey_key: str
    survey_version: int
    invitations_queued: int


async def create_round_by_hand(
    session: AsyncSession,
    *,
    survey_key: str,
    closes_at: datetime,
    now: datetime,
    zone: ZoneInfo,
    actor: str,
    opens_at: datetime | None = None,
    title: str | None = None,
    audience: Audience | None = None,
    retention_months: int = DEFAULT_RETENTION_MONTHS,
    allow_edit_after_submit: bool = True,
) -> RoundByHand:
    """Create a round in the caller's transaction, and open it if ``opens_at`` (None: now)
    is not in the future. ``title`` defaults to the survey's; ``audience`` to everyone.

    ``UnknownSurvey`` for a key not in the database; ``RoundError`` for a deadline passed
    and what ``create_round`` refuses (an unknown organisation, closing before opening,
    a retention out of range).
    """
    require_deadline_ahead(closes_at, now)
    opens = now if opens_at is None else opens_at
    version = await latest_version(session, survey_key)
    if version is None:
        raise UnknownSurvey(survey_key)
    round_ = await create_round(
        session,
        survey_version_id=version.id,
        title=title or version.title,
        audience=audience or Audience(),
        opens_at=opens,
        closes_at=closes_at,
        retention_months=retention_months,
        allow_edit_after_submit=allow_edit_after_submit,
    )
    invited = await open_round(session, round_, now, zone, actor=actor) if opens <= now else 0
    return RoundByHand(round_, version.key, version.version, invited)
