"""The functions APScheduler's persistent job store refers to.

Jobs are pickled into the database as a reference to a module-level function plus
plain arguments (a round id), so they survive restarts and carry no live objects. The
``Cycle`` they act on is bound here by the process that currently runs the scheduler.
"""

from __future__ import annotations

import logging

from scheduler.cycle import Cycle

log = logging.getLogger(__name__)

_bound: list[Cycle] = []


def bind(cycle: Cycle) -> None:
    """Make ``cycle`` the one that jobs in this process act on."""
    _bound[:] = [cycle]


def unbind(cycle: Cycle) -> None:
    """Forget ``cycle`` (when this process stops running the scheduler)."""
    if _bound and _bound[0] is cycle:
        _bound.clear()


async def advance_round(round_id: int) -> None:
    """A round's trigger fired: take whatever steps are due for it now."""
    if not _bound:
        log.warning("scheduler job for round %s ran with no cycle bound; ignored", round_id)
        return
    await _bound[0].advance(round_id)
