"""The report's section on what KS does with a round: its actions so far.

Pure: ``services/actions.py`` (``round_actions_section``) gathers, for one round, the
actions linked to its areas or needs; this orders them and writes them as text (a part
of ``summary.txt``) and as JSON (``summary.json``'s ``actions`` key). Only titles,
statuses, area names and counts: never a need's words or an organisation's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialogs.action_texts import STATUSES, status_name
from dialogs.i18n import t, tn

TEXT_LIMIT = 8  # actions listed in the text (the JSON has every one)
TITLE_LIMIT = 100  # characters of a title in the text


@dataclass(frozen=True)
class ActionLine:
    """One action as the report lists it."""

    id: int
    title: str
    status: str
    areas: tuple[str, ...]  # labels of the round's areas it answers
    needs: int  # how many of the round's needs are linked to it

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "status_name": status_name(self.status),
            "areas": list(self.areas),
            "needs": self.needs,
        }

    def text(self) -> str:
        """``• «Tittel» (i gang) – Helse og omsorg; svarer på 3 behov``."""
        title = (
            self.title if len(self.title) <= TITLE_LIMIT else self.title[: TITLE_LIMIT - 1] + "…"
        )
        line = f"• «{title}» ({status_name(self.status)})"
        parts = []
        if self.areas:
            parts.append(", ".join(self.areas))
        if self.needs:
            parts.append(tn("reports.actions.answers_needs", self.needs))
        return line + (" – " + "; ".join(parts) if parts else "")


@dataclass(frozen=True)
class ActionsSection:
    """The actions of a round, in the order the report shows them."""

    actions: tuple[ActionLine, ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [action.to_json() for action in self.actions]

    def text(self) -> str:
        """The section as text; empty when KS has no actions for the round yet."""
        if not self.actions:
            return ""
        lines = [
            t("reports.actions.title"),
            *(action.text() for action in self.actions[:TEXT_LIMIT]),
        ]
        more = len(self.actions) - TEXT_LIMIT
        if more > 0:
            lines.append(tn("reports.actions.more", more))
        return "\n".join(lines)


def _order(action: ActionLine) -> tuple[int, int]:
    rank = STATUSES.index(action.status) if action.status in STATUSES else len(STATUSES)
    # Under way first, then planned, then done; laid aside last.
    return ({1: 0, 0: 1, 2: 2}.get(rank, 3), action.id)


def actions_section(actions: Sequence[ActionLine]) -> ActionsSection:
    """The section for these actions: those under way first, then planned, done and laid
    aside, each group in the order the actions were created."""
    return ActionsSection(tuple(sorted(actions, key=_order)))
