"""The annual wheel (årshjul) as a member sees it: ``/arshjul``.

Pure: the caller gathers the rounds that concern the member's organisation; this
turns them into one channel-neutral message in the language being spoken (the
``wheel`` catalogue). Round, notice and action titles are data and stay as KS wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from dialogs.action_texts import status_name
from dialogs.dates import format_date, format_datetime
from dialogs.i18n import t
from dialogs.messages import OutgoingMessage

Answered = Literal["submitted", "started", "incomplete", "no"]


@dataclass(frozen=True)
class WheelNotice:
    """Something KS published about a round: its summary, or what KS does with the input."""

    title: str
    published_at: datetime


@dataclass(frozen=True)
class WheelAction:
    """An action of KS's that answers areas or needs of a round, and where it stands."""

    title: str
    status: str  # planned | in_progress | done | dropped


@dataclass(frozen=True)
class WheelRound:
    """One round of the year, from the member organisation's point of view."""

    title: str
    status: str  # planned | open | closed
    opens_at: datetime
    closes_at: datetime
    answered: Answered
    notices: tuple[WheelNotice, ...] = ()
    actions: tuple[WheelAction, ...] = ()  # what KS does with it (shown for held rounds)


def wheel_message(
    org_name: str, rounds: Sequence[WheelRound], now: datetime, zone: ZoneInfo
) -> OutgoingMessage:
    """Rounds open now, rounds to come and rounds held, for one organisation."""
    open_now = [r for r in rounds if r.status == "open"]
    coming = [r for r in rounds if r.status == "planned"]
    held = [r for r in rounds if r.status == "closed"]
    lines = [t("wheel.heading", organisation=org_name)]
    if open_now:
        lines += ["", t("wheel.open.heading")]
        for r in sorted(open_now, key=lambda r: r.closes_at):
            lines.append(
                t("wheel.open.round", title=r.title, closes=format_datetime(r.closes_at, zone))
            )
            lines.append(f"  {_open_state(r.answered)}")
    if coming:
        lines += ["", t("wheel.coming.heading")]
        for r in sorted(coming, key=lambda r: r.opens_at):
            lines.append(
                t(
                    "wheel.coming.round",
                    title=r.title,
                    opens=format_date(r.opens_at, zone),
                    closes=format_date(r.closes_at, zone),
                )
            )
    if held:
        lines += ["", t("wheel.held.heading")]
        for r in sorted(held, key=lambda r: r.closes_at, reverse=True):
            lines.append(
                t(
                    "wheel.held.round",
                    title=r.title,
                    closed=format_date(r.closes_at, zone),
                    answered=_held_state(r.answered),
                )
            )
            for notice in sorted(r.notices, key=lambda n: n.published_at):
                lines.append(f"  – {notice.title} ({format_date(notice.published_at, zone)})")
            if r.actions:
                lines.append(f"  {t('wheel.held.actions')}")
                for action in r.actions:
                    lines.append(f"  – «{action.title}» ({status_name(action.status)})")
    if not rounds:
        lines += ["", t("wheel.empty")]
    lines += ["", t("wheel.summaries")]
    if any(r.actions for r in held):
        lines.append(t("wheel.actions_hint"))
    return OutgoingMessage(text="\n".join(lines))


def _open_state(answered: Answered) -> str:
    """Where the organisation's answer to an open round stands."""
    if answered == "submitted":
        return t("wheel.open.submitted")
    if answered == "started":
        return t("wheel.open.started")
    if answered == "incomplete":
        return t("wheel.open.incomplete")
    return t("wheel.open.not_answered")


def _held_state(answered: Answered) -> str:
    """Whether the organisation answered a round that is over."""
    if answered == "submitted":
        return t("wheel.held.answered")
    if answered == "no":
        return t("wheel.held.not_answered")
    return t("wheel.held.not_submitted")
