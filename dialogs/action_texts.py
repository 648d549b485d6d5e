"""What members read about KS's actions ("dere sa, vi gjorde"): notices and ``/tiltak``.

Pure: ``services/actions.py`` gathers the action, the organisation's own needs and
staff's assessment against the known criteria; this turns them into channel-neutral
messages in the language being spoken (the ``actions`` catalogue; the caller renders each
recipient's notice inside ``speaking(<their language>)``). A notice names the
organisation's own need, quoted short, so the member recognises what they said;
``/tiltak`` lists every action their needs are linked to. Titles, descriptions, units and
needs are data and stay as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from dialogs.criteria import criterion_name, rating_name
from dialogs.i18n import date_text, t, tn
from dialogs.messages import OutgoingMessage

STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "dropped")
# The staff workspace's names (bokmål, like the rest of the workspace); members read
# ``status_name`` in their own language.
STATUS_NAMES: dict[str, str] = {
    "planned": "planlagt",
    "in_progress": "i gang",
    "done": "gjennomført",
    "dropped": "lagt bort",
}
QUOTE_LENGTH = 120  # a need is quoted at about this many characters


@dataclass(frozen=True)
class NeedQuote:
    """One of the organisation's needs, as it is named to them."""

    round_title: str
    area_label: str
    text: str  # empty when the free text is no longer kept (retention, erasure)


@dataclass(frozen=True)
class CriterionRating:
    """Staff's assessment of an action against criterion ``criterion`` (1-10)."""

    criterion: int
    rating: str  # met | partly | not
    reasoning: str


@dataclass(frozen=True)
class MemberAction:
    """An action as a member organisation sees it: what it is and which of their needs it
    answers."""

    title: str
    status: str
    description: str
    responsible_unit: str
    starts_on: date | None
    ends_on: date | None
    needs: tuple[NeedQuote, ...]
    criteria: tuple[CriterionRating, ...] = ()


_STATUS_TEXTS: dict[str, Callable[[], str]] = {
    "planned": lambda: t("actions.status.planned"),
    "in_progress": lambda: t("actions.status.in_progress"),
    "done": lambda: t("actions.status.done"),
    "dropped": lambda: t("actions.status.dropped"),
}


def status_name(status: str) -> str:
    """``in_progress`` -> ``i gang``, in the language being spoken."""
    text = _STATUS_TEXTS.get(status)
    return text() if text else status


def shorten(text: str, limit: int = QUOTE_LENGTH) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters (with …)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut and not flat[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:–-") + "…"


def day_text(day: date) -> str:
    """``1. mars 2027``, as the language being spoken writes a date."""
    return date_text(day)


def period_text(starts_on: date | None, ends_on: date | None) -> str:
    """When an action runs, in words; empty when neither date is known."""
    if starts_on and ends_on:
        return f"{day_text(starts_on)}–{day_text(ends_on)}"
    if starts_on:
        return t("actions.period.from", start=day_text(starts_on))
    if ends_on:
        return t("actions.period.until", end=day_text(ends_on))
    return ""


def _said(needs: Sequence[NeedQuote]) -> str:
    """``I runden «…» meldte dere behov om «…» (Helse og omsorg).``: the first need, and
    how many more there are."""
    first = needs[0]
    if first.text:
        said = t(
            "actions.said.quoted",
            round=first.round_title,
            need=shorten(first.text),
            area=first.area_label,
        )
    else:
        said = t("actions.said.unquoted", round=first.round_title, area=first.area_label)
    more = len(needs) - 1
    if more:
        said += tn("actions.said.more", more)
    return said + "."


# What a notice says KS has done, for the first notice an organisation gets about an action
# (it is linked to their need) and for a later change of status.
FIRST_NEWS: dict[str, Callable[[str], str]] = {
    "planned": lambda title: t("actions.news.first.planned", title=title),
    "in_progress": lambda title: t("actions.news.first.in_progress", title=title),
    "done": lambda title: t("actions.news.first.done", title=title),
}
STATUS_NEWS: dict[str, Callable[[str], str]] = {
    "planned": lambda title: t("actions.news.status.planned", title=title),
    "in_progress": lambda title: t("actions.news.status.in_progress", title=title),
    "done": lambda title: t("actions.news.status.done", title=title),
    "dropped": lambda title: t("actions.news.status.dropped", title=title),
}


def first_notice_possible(status: str) -> bool:
    """Whether an organisation newly linked to an action with this status is told (not of
    an action KS has laid aside)."""
    return status in FIRST_NEWS


def action_notice(
    *, title: str, status: str, needs: Sequence[NeedQuote], first: bool
) -> OutgoingMessage:
    """The short chat notice to one organisation: their need, and what KS did about it.

    ``first``: the organisation hears of the action for the first time (it was created
    with their need, or their need was linked to it); otherwise its status changed.
    """
    if not needs:
        raise ValueError("a notice names the organisation's own need")
    news = (FIRST_NEWS if first else STATUS_NEWS)[status](shorten(title, 150))
    return OutgoingMessage(text=f"{_said(needs)}\n{news}\n\n{t('actions.notice.more')}")


def _criteria_lines(criteria: Sequence[CriterionRating]) -> list[str]:
    shown = sorted(
        (c for c in criteria if c.rating in ("met", "partly") and 1 <= c.criterion <= 10),
        key=lambda c: (c.rating != "met", c.criterion),
    )
    if not shown:
        return []
    lines = [f"  {t('actions.criteria.heading')}"]
    for rating in shown:
        mark = "✓" if rating.rating == "met" else "◐"
        line = f"   {mark} {criterion_name(rating.criterion)}"
        if rating.rating == "partly":
            line += f" ({rating_name('partly')})"
        reasoning = " ".join(rating.reasoning.split())
        if reasoning:
            line += f" – {shorten(reasoning, 200)}"
        lines.append(line)
    return lines


def actions_message(org_name: str, actions: Sequence[MemberAction]) -> OutgoingMessage:
    """``/tiltak``: the actions linked to the organisation's needs, newest news first as
    the caller orders them, each with its status, the needs it answers and the known
    criteria it meets or partly meets."""
    if not actions:
        return OutgoingMessage(text=t("actions.list.none", organisation=org_name))
    lines = [t("actions.list.heading", organisation=org_name)]
    for action in actions:
        lines += ["", f"• «{action.title}» – {status_name(action.status)}"]
        facts = [
            part
            for part in (
                t("actions.list.responsible", unit=action.responsible_unit)
                if action.responsible_unit
                else "",
                period_text(action.starts_on, action.ends_on),
            )
            if part
        ]
        if facts:
            lines.append("  " + " · ".join(facts))
        if action.description.strip():
            lines.append(f"  {shorten(action.description, 300)}")
        for need in action.needs:
            what = f"«{shorten(need.text)}»" if need.text else t("actions.list.a_need")
            answers = t(
                "actions.list.answers", need=what, area=need.area_label, round=need.round_title
            )
            lines.append(f"  {answers}")
        lines += _criteria_lines(action.criteria)
    lines += ["", t("actions.list.footer")]
    return OutgoingMessage(text="\n".join(lines))
