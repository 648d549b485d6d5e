"""``lyttepost doctor``'s plan check: an annual plan file valid, in itself and against
the database (``plan apply --dry-run``: nothing is changed), or without a file, whether
the database has any round ahead at all.

It lives with the plan rather than in ``services/doctor.py``: services/ may not import
the scheduler.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from scheduler.plan import PlanError, load_plan_file
from scheduler.plan_apply import apply_all_or_nothing
from services import lifecycle
from services.doctor import Finding, counted
from storage.orm import Round
from storage.sessions import Sessions


async def check_plan(
    file: Path | None, zone: ZoneInfo | None, sessions: Sessions | None, now: datetime
) -> Finding:
    """The plan file (``doctor --plan FILE``) read and dry-run; without one, the rounds
    planned or open in the database. ``sessions`` None: the database is not usable."""
    if file is None:
        return await _rounds_ahead(sessions)
    if zone is None:
        return Finding("plan", "skip", "needs a valid TIMEZONE (see time)")
    again = f"'lyttepost plan apply {file} --dry-run' lists every problem"
    try:
        plan = load_plan_file(file, zone)
    except PlanError as error:
        return _problems(file, [str(p) for p in error.problems], again)
    if sessions is None:
        return Finding("plan", "warn", f"{file}: {counted(len(plan.rounds), 'round')} read; not checked "
                       "against the database (see database)", "")  # fmt: skip
    try:
        _, problems = await apply_all_or_nothing(
            sessions, plan, now, zone, actor="doctor", dry_run=True
        )
    except Exception as error:  # the database went away meanwhile: a line, not a traceback
        return Finding("plan", "fail", f"cannot check {file} against the database "
                       f"({type(error).__name__})", "")  # fmt: skip
    if problems:
        return _problems(file, [str(p) for p in problems], again)
    if plan.warnings:
        return Finding("plan", "warn", f"{file}: {counted(len(plan.rounds), 'round')} valid; "
                       f"{plan.warnings[0]}", again.replace("problem", "warning"))  # fmt: skip
    return Finding("plan", "ok", f"{file}: {counted(len(plan.rounds), 'round')} valid against the "
                   "database (nothing applied)")  # fmt: skip


def _problems(file: Path, problems: list[str], fix: str) -> Finding:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    first = problems[0] if problems else f"{file}: not usable"
    return Finding("plan", "fail", f"{first}{more}", fix)


async def _rounds_ahead(sessions: Sessions | None) -> Finding:
    if sessions is None:
        return Finding("plan", "skip", "no plan file given, and no database to look in")
    try:
        async with sessions() as session:
            ahead = await session.scalar(
                select(func.count(Round.id)).where(Round.status.in_(lifecycle.ACTIVE))
            )
    except Exception as error:
        return Finding("plan", "fail", f"cannot read rounds ({type(error).__name__})", "")
    if not ahead:
        return Finding("plan", "warn", "no round is planned or open in the database",
                       "apply the year's plan: lyttepost plan apply FILE "
                       "(doctor --plan FILE checks it first)")  # fmt: skip
    return Finding("plan", "ok", f"{counted(ahead, 'round')} planned or open in the database "
                   "(doctor --plan FILE checks a plan file too)")  # fmt: skip
