"""Staff's own labels (tags) on needs, and the quotable mark.

A need is named by its ``NeedKey`` (``services/views_needs.py``). These functions change
the caller's transaction and return what changed, so the door can record it in the
audit log and show it; they refuse a key that names no need of a submitted response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.state import ResponseState
from reports.summary import OrgFacts, ResponseFacts, needs_of
from services.surveys import SurveyCatalog
from services.views_needs import NeedError, NeedKey
from storage.orm import NeedTag, QuotableNeed, Response, Round
from storage.upsert import insert_ignoring_conflicts

MAX_LABEL = 60


class TagError(ValueError):
    """A label that cannot be used (empty or too long); the message is Norwegian."""


@dataclass(frozen=True)
class TagChange:
    """What adding or removing a label did: ``changed`` is False when there was nothing to
    do (the label was there already, or was not); ``tags`` are the need's labels after."""

    key: NeedKey
    label: str
    changed: bool
    tags: tuple[str, ...]


@dataclass(frozen=True)
class QuotableChange:
    """What marking (or unmarking) a need as quotable did."""

    key: NeedKey
    quotable: bool
    changed: bool


@dataclass(frozen=True)
class LabelUse:
    """A label staff use, and on how many needs."""

    label: str
    needs: int


def clean_label(label: str) -> str:
    """A label with its white space tidied; ``TagError`` if empty or too long."""
    cleaned = " ".join(label.split())
    if not cleaned or len(cleaned) > MAX_LABEL:
        raise TagError(f"en merkelapp må ha 1–{MAX_LABEL} tegn")
    return cleaned


async def _require_need(session: AsyncSession, catalog: SurveyCatalog, key: NeedKey) -> None:
    """``NeedError`` unless ``key`` names a need of a submitted response (with its text)."""
    found = await session.execute(
        select(Response.state, Round.survey_version_id)
        .join(Round, Round.id == Response.round_id)
        .where(Response.id == key.response_id, Response.status == "submitted")
    )
    row = found.first()
    if row is not None:
        state, version_id = row
        survey = await catalog.get(session, version_id)
        facts = ResponseFacts(
            OrgFacts("", "", "", ""), "submitted", ResponseState.model_validate(state).answers
        )
        if any(need.question_id == key.question_id for need in needs_of(survey, facts)):
            return
    raise NeedError(f"fant ikke behov {key.token}")


async def _tags_of(session: AsyncSession, key: NeedKey) -> list[str]:
    return sorted(
        await session.scalars(
            select(NeedTag.label).where(
                NeedTag.response_id == key.response_id, NeedTag.question_id == key.question_id
            )
        ),
        key=str.casefold,
    )


async def add_tag(
    session: AsyncSession,
    catalog: SurveyCatalog,
    key: NeedKey,
    label: str,
    *,
    actor: str,
    now: datetime,
) -> TagChange:
    """Put a label on a need. A label already in use with other capitals is reused as it is
    spelled there, so "rekruttering" and "Rekruttering" stay one label."""
    label = clean_label(label)
    await _require_need(session, catalog, key)
    same = [
        used
        for used in await session.scalars(select(NeedTag.label).distinct())
        if used.casefold() == label.casefold()
    ]
    label = min(same) if same else label
    inserted = await insert_ignoring_conflicts(
        session,
        NeedTag.__table__,
        [
            {
                "response_id": key.response_id,
                "question_id": key.question_id,
                "label": label,
                "added_by": actor[:120],
                "added_at": now,
            }
        ],  # fmt: skip
        ["response_id", "question_id", "label"],
        returning="id",
    )
    return TagChange(key, label, bool(inserted), tuple(await _tags_of(session, key)))


async def remove_tag(session: AsyncSession, key: NeedKey, label: str) -> TagChange:
    """Take a label off a need (matched without regard to capitals)."""
    wanted = " ".join(label.split()).casefold()
    present = [t for t in await _tags_of(session, key) if t.casefold() == wanted]
    if present:
        await session.execute(
            delete(NeedTag).where(
                NeedTag.response_id == key.response_id,
                NeedTag.question_id == key.question_id,
                NeedTag.label.in_(present),
            )
        )
    return TagChange(
        key, present[0] if present else label.strip(), bool(present),
        tuple(await _tags_of(session, key)),
    )  # fmt: skip


async def set_quotable(
    session: AsyncSession,
    catalog: SurveyCatalog,
    key: NeedKey,
    quotable: bool,
    *,
    actor: str,
    now: datetime,
) -> QuotableChange:
    """Mark a need as quotable, or take the mark away."""
    if not quotable:
        result = await session.execute(
            delete(QuotableNeed)
            .where(
                QuotableNeed.response_id == key.response_id,
                QuotableNeed.question_id == key.question_id,
            )
            .returning(QuotableNeed.response_id)
        )
        return QuotableChange(key, False, bool(result.all()))
    await _require_need(session, catalog, key)
    inserted = await insert_ignoring_conflicts(
        session,
        QuotableNeed.__table__,
        [
            {
                "response_id": key.response_id,
                "question_id": key.question_id,
                "marked_by": actor[:120],
                "marked_at": now,
            }
        ],  # fmt: skip
        ["response_id", "question_id"],
        returning="response_id",
    )
    return QuotableChange(key, True, bool(inserted))


async def labels_in_use(session: AsyncSession, round_id: int | None = None) -> list[LabelUse]:
    """Every label on a need (of one round, or of all), most used first, then by name."""
    statement = select(NeedTag.label, func.count()).group_by(NeedTag.label)
    if round_id is not None:
        statement = statement.join(Response, Response.id == NeedTag.response_id).where(
            Response.round_id == round_id
        )
    uses = [LabelUse(label, count) for label, count in await session.execute(statement)]
    return sorted(uses, key=lambda use: (-use.needs, use.label.casefold()))
