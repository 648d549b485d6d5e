"""The annual cycle's next automatic steps for a round, in words staff understand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler.cycle import Cycle

STEP_NAMES = {
    "open": "Runden åpner",
    "invite": "Invitasjonene sendes",
    "remind": "Påminnelse til dem som ikke har svart",
    "close": "Runden stenger",
    "notify-closed": "Medlemmene får beskjed om at runden er stengt",
}


@dataclass(frozen=True)
class NextStep:
    """One automatic step and when it happens (a moment in the past: as soon as possible)."""

    what: str
    at: datetime


def step_name(job_id: str) -> str:
    """``round:7:remind:2`` -> 'Påminnelse ...'."""
    parts = job_id.split(":")
    kind = parts[2] if len(parts) > 2 else job_id
    return STEP_NAMES.get(kind, kind)


async def next_steps(cycle: Cycle) -> dict[int, list[NextStep]]:
    """Each active round's coming automatic steps, earliest first."""
    steps: dict[int, list[NextStep]] = {}
    for trigger in sorted(await cycle.triggers(), key=lambda t: t.at):
        steps.setdefault(trigger.round_id, []).append(
            NextStep(step_name(trigger.job_id), trigger.at)
        )
    return steps
