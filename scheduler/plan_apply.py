"""Applying an annual plan to the database: create, update or leave each round, all or nothing.

A round is matched by its plan key, so applying the same file twice changes nothing
and applying an edited file updates the rounds it describes. What may change depends
on how far a round has come: a planned round may change in every way; an open round
only in its deadline, reminders, quiet hours and retention (its invitations have gone
out); a closed or cancelled round only in its retention, until that has run out. Problems found against the database (an unknown
survey or organisation, a change an open round cannot take) point at the plan's lines.

Dates the calendar moved (``scheduler/plan_moves.py``) are applied like written ones,
except where the round is past caring: an open round keeps the opening it had when
that was the date as written, and a closed or cancelled round keeps its dates and the
blackouts it had. Each round's result lists, in Norwegian, what was moved and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.reminders import QuietRules
from dialogs.yamlsource import SourceProblem
from scheduler.plan import Plan, PlanError, PlannedRound
from services import audit, lifecycle
from services.rounds import RoundError, create_round, resolve_audience, set_audience
from services.surveys import latest_version
from storage.orm import Round, SurveyVersion


@dataclass(frozen=True)
class AppliedRound:
    """What applying the plan did to one round."""

    key: str
    round_id: int
    action: str  # created | updated | unchanged
    status: str
    changes: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()  # what the calendar moved and why (Norwegian)


@dataclass
class ApplyResult:
    """The outcome of ``apply_plan``; ``orphans`` are planned rounds no longer in the file."""

    rounds: list[AppliedRound] = field(default_factory=list)
    orphans: list[tuple[str, int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "rounds": [
                {"key": r.key, "id": r.round_id, "action": r.action, "status": r.status,
                 "changes": list(r.changes), "moved": list(r.moved)}
                for r in self.rounds
            ],
            "not_in_file": [{"key": k, "id": i, "status": s} for k, i, s in self.orphans],
        }  # fmt: skip


async def apply_plan(
    session: AsyncSession, plan: Plan, now: datetime, zone: ZoneInfo, *, actor: str
) -> ApplyResult:
    """Apply every round of the plan in the caller's transaction; ``PlanError`` if any cannot be."""
    problems: list[SourceProblem] = []
    result = ApplyResult()
    for planned in plan.rounds:
        try:
            applied = await _apply_round(session, plan, planned, now, zone, actor)
        except _RoundProblems as found:
            problems += [planned.problem(plan.source, f, message) for f, message in found.problems]
            continue
        result.rounds.append(applied)
    if problems:
        raise PlanError(problems)
    keys = {planned.key for planned in plan.rounds}
    for round_ in await session.scalars(
        select(Round).where(Round.plan_key.is_not(None)).order_by(Round.opens_at)
    ):
        if round_.plan_key not in keys and round_.status in lifecycle.ACTIVE:
            result.orphans.append((round_.plan_key or "", round_.id, round_.status))
    return result


async def apply_all_or_nothing(
    sessions: async_sessionmaker[AsyncSession],
    plan: Plan,
    now: datetime,
    zone: ZoneInfo,
    *,
    actor: str,
    dry_run: bool,
    file_problems: Sequence[SourceProblem] = (),
    audit_as: audit.Actor | None = None,
) -> tuple[ApplyResult | None, list[SourceProblem]]:
    """Check every round against the database and apply the plan in one transaction.

    It is committed only when neither the file (``file_problems``: those found reading
    it) nor the database has a problem and this is no dry run, so every problem is
    reported at once and nothing changes unless the whole plan is right. Returns the
    result, or None with every problem. ``audit_as``: who applies it, recorded in the
    audit log in the same transaction.
    """
    problems = list(file_problems)
    result: ApplyResult | None = None
    async with sessions() as session:
        transaction = await session.begin()
        try:
            result = await apply_plan(session, plan, now, zone, actor=actor)
        except PlanError as error:
            problems += error.problems
        if problems or dry_run:
            await transaction.rollback()
        else:
            if audit_as is not None and result is not None:
                actions = [r.action for r in result.rounds]
                audit.record(
                    session,
                    audit_as,
                    "plan.apply",
                    f"plan:{plan.name or plan.source}"[:120],
                    now,
                    **{a: actions.count(a) for a in sorted(set(actions))},
                )
            await transaction.commit()
    return (None, problems) if problems else (result, [])


class _RoundProblems(Exception):
    """Everything wrong with one round against the database: (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


async def _apply_round(
    session: AsyncSession,
    plan: Plan,
    planned: PlannedRound,
    now: datetime,
    zone: ZoneInfo,
    actor: str,
) -> AppliedRound:
    """Create or update one round; ``_RoundProblems`` lists every problem found with it."""
    problems: list[tuple[str, str]] = []
    version = await latest_version(session, planned.survey)
    if version is None:
        problems.append(
            ("survey", f"no survey {planned.survey!r} in the database (see lyttepost surveys list)")
        )
    try:
        organisations = await resolve_audience(session, planned.audience)
    except RoundError as error:
        problems.append(("audience", str(error)))
    existing = await session.scalar(
        select(Round).where(Round.plan_key == planned.key).with_for_update()
    )
    if existing is not None:
        planned = _as_applicable(planned, existing)
    moved = tuple(move.describe(zone) for move in planned.moves)
    if existing is None and planned.closes_at <= now:
        problems.append(("closes", "the deadline has already passed"))
    if existing is not None and version is None:
        problems += _change_problems(existing, planned, None, now)
    if problems:
        raise _RoundProblems(problems)
    assert version is not None
    title = planned.title or version.title
    if existing is None:
        round_ = await create_round(
            session, survey_version_id=version.id, title=title, audience=planned.audience,
            opens_at=planned.opens_at, closes_at=planned.closes_at,
            reminders=planned.reminders, quiet=planned.quiet, plan_key=planned.key,
            retention_months=planned.retention_months,
        )  # fmt: skip
        await lifecycle.record_event(session, round_, now, actor, "planned", source=plan.source)
        return AppliedRound(planned.key, round_.id, "created", round_.status, moved=moved)
    wanted = _wanted(planned, title)
    changes = await _changes(session, existing, wanted)
    if not changes:
        return AppliedRound(planned.key, existing.id, "unchanged", existing.status, moved=moved)
    problems = _change_problems(existing, planned, changes, now)
    if problems:
        raise _RoundProblems(problems)
    existing.retention_months = planned.retention_months
    if changes == ["retention_months"]:  # any round's retention may change until it ran out
        await lifecycle.record_event(
            session, existing, now, actor, "replanned", source=plan.source, changes=changes
        )
        return AppliedRound(
            planned.key, existing.id, "updated", existing.status, tuple(changes), moved
        )
    if "closes" in changes or "opens" in changes:
        try:
            await lifecycle.change_dates(
                session, existing, now, zone, actor=actor,
                opens_at=planned.opens_at, closes_at=planned.closes_at,
            )  # fmt: skip
        except lifecycle.LifecycleError as error:
            raise _RoundProblems([("closes", str(error))]) from None
    existing.title = title
    if existing.status == "planned":  # an open round keeps the version it opened with
        existing.survey_version_id = version.id
    existing.reminder_rules = wanted["reminders"]
    existing.quiet_rules = wanted["quiet"]
    if "audience" in changes:
        existing.audience = wanted["audience"]
        await set_audience(session, existing, organisations)
    await lifecycle.record_event(
        session, existing, now, actor, "replanned", source=plan.source, changes=changes
    )
    return AppliedRound(planned.key, existing.id, "updated", existing.status, tuple(changes), moved)


def _as_applicable(planned: PlannedRound, existing: Round) -> PlannedRound:
    """The planned round with the calendar's moves a round this far along can still take.

    A round that has opened keeps its opening if it is the one written in the plan
    (the move would only be refused); a closed or cancelled round also keeps its
    deadline and its blackouts, and nothing more is moved for it.
    """
    moves = planned.moves
    if existing.status != "planned" and existing.opens_at == planned.written_opens_at:
        planned = replace(planned, opens_at=existing.opens_at)
        moves = tuple(m for m in moves if m.field != "opens")
    if existing.status not in lifecycle.ACTIVE:
        if existing.closes_at == planned.written_closes_at:
            planned = replace(planned, closes_at=existing.closes_at)
        stored = QuietRules.from_json(existing.quiet_rules).blackouts
        planned = replace(planned, quiet=replace(planned.quiet, blackouts=stored))
        moves = ()
    return replace(planned, moves=moves)


async def _changes(session: AsyncSession, existing: Round, wanted: dict[str, Any]) -> list[str]:
    """What the plan would change in a round that exists (property names)."""
    pinned = await session.get(SurveyVersion, existing.survey_version_id)
    current = _current(existing, pinned.key if pinned else "")
    return [name for name, value in wanted.items() if current[name] != value]


def _change_problems(
    existing: Round, planned: PlannedRound, changes: list[str] | None, now: datetime
) -> list[tuple[str, str]]:
    """Every change the round's state does not allow (``changes`` None: not known yet,
    because the survey is missing; only the dates can be judged then).

    Retention may change in any round until its personal data has been erased; every
    other change needs a round that is still planned or open.
    """
    dates = ["opens"] if planned.opens_at != existing.opens_at else []
    dates += ["closes"] if planned.closes_at != existing.closes_at else []
    changed = changes if changes is not None else dates
    problems = []
    if "retention_months" in changed and existing.personal_data_erased_at is not None:
        problems.append(
            (
                "retention_months",
                f"round {existing.id}'s free text and links to persons were erased already",
            )
        )
    fixed = [name for name in changed if name != "retention_months"]
    if not fixed:
        return problems
    if existing.status not in lifecycle.ACTIVE:
        return problems + [
            (
                _field(fixed[0]),
                f"round {existing.id} is {existing.status}; it can no longer change",
            )
        ]
    if existing.status == "open":
        problems += [
            (
                _field(name),
                f"round {existing.id} is open: only closes, reminders, quiet_hours, weekends, "
                "holidays, blackouts and retention_months can change",
            )
            for name in fixed
            if name not in ("closes", "reminders", "quiet")
        ]
    if ("closes" in fixed or "opens" in fixed) and planned.closes_at <= now:
        problems.append(("closes", "the new deadline has already passed"))
    return problems


def _wanted(planned: PlannedRound, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "survey": planned.survey,
        "opens": planned.opens_at,
        "closes": planned.closes_at,
        "audience": planned.audience.describe(),
        "reminders": [rule.to_json() for rule in planned.reminders],
        "quiet": planned.quiet.to_json(),
        "retention_months": planned.retention_months,
    }


def _current(round_: Round, survey_key: str) -> dict[str, Any]:
    return {
        "title": round_.title,
        "survey": survey_key,
        "opens": round_.opens_at,
        "closes": round_.closes_at,
        "audience": round_.audience,
        "reminders": round_.reminder_rules,
        "quiet": round_.quiet_rules,
        "retention_months": round_.retention_months,
    }


def _field(change: str) -> str:
    """The plan file's name for a changed property."""
    return "quiet_hours" if change == "quiet" else change
