"""What a round's trends are made from: the earlier rounds of its survey key, read from the
database and handed to ``reports/trends.py`` as plain facts.

The earlier rounds are those of the same survey key (any version) that are open or
closed and opened before this one (``opens_at``, then id); each round's audience and
responses come from ``services/report_data.round_facts``, one query per round, so the
trends count exactly what each round's own summary counts.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SOURCE
from reports.disclosure import MIN_ORGANISATIONS
from reports.trends import TrendRoundFacts, Trends, compute_trends
from services.report_data import round_facts
from services.surveys import SurveyCatalog
from storage.orm import Round, SurveyVersion

COUNTED_STATUSES = ("open", "closed")


async def rounds_of_key(session: AsyncSession, round_id: int) -> list[Round]:
    """The rounds of ``round_id``'s survey key up to and including it, in opening order;
    ``LookupError`` if there is no such round."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    key = select(SurveyVersion.key).where(SurveyVersion.id == round_.survey_version_id)
    earlier = await session.scalars(
        select(Round)
        .join(SurveyVersion, SurveyVersion.id == Round.survey_version_id)
        .where(
            SurveyVersion.key == key.scalar_subquery(),
            Round.status.in_(COUNTED_STATUSES),
            Round.id != round_.id,
            or_(
                Round.opens_at < round_.opens_at,
                and_(Round.opens_at == round_.opens_at, Round.id < round_.id),
            ),
        )
        .order_by(Round.opens_at, Round.id)
    )
    return [*earlier, round_]


async def build_trends(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int,
    *,
    min_count: int = MIN_ORGANISATIONS,
    language: str = SOURCE,
) -> Trends | None:
    """The trends of a round against the earlier rounds of its survey key, with the survey's
    labels in ``language``; None when the key was not used before. ``LookupError`` if there
    is no such round."""
    rounds = await rounds_of_key(session, round_id)
    if len(rounds) < 2:
        return None
    facts = []
    for round_ in rounds:
        survey = await catalog.get(session, round_.survey_version_id, language)
        audience, responses = await round_facts(session, round_.id)
        facts.append(
            TrendRoundFacts(
                id=round_.id,
                title=round_.title,
                opens_at=round_.opens_at,
                closes_at=round_.closes_at,
                survey=survey,
                responses=responses,
                audience=audience,
            )  # fmt: skip
        )
    return compute_trends(facts, min_count)
