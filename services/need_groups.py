"""Suggested groups of a round's needs, accepted by staff as tags (issue 14, ADR 25).

Within each area of a round, the needs that carry no tag yet are grouped by
``reports.need_grouping.suggest_groups``. Staff accept a group, perhaps renamed and with
some needs left out (split off): its name then becomes a tag on each need kept, through
``services/need_tags.add_tag``, so an accepted group is an ordinary tag: it shows in the
needs browser, is counted per area (``tag_counts``), and actions can be linked by it.
Needs that got a tag leave the suggestions; the rest are grouped afresh.

Needs are named by ``NeedKey`` (response and question), as in ``services/views_needs.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from reports.need_grouping import DEFAULT_SETTINGS, GroupingSettings, NeedText, suggest_groups
from reports.tag_counts import AreaTagCounts, TaggedNeed, count_tags
from services import audit
from services.need_tags import add_tag, clean_label
from services.surveys import SurveyCatalog
from services.views_needs import NeedCache, NeedError, NeedKey, NeedRow, all_needs


class GroupError(ValueError):
    """A group that cannot be accepted as it was sent; the message is Norwegian."""


@dataclass(frozen=True)
class GroupSuggestion:
    """A suggested group: its name, the words it came from, its needs (most typical
    first) and its most typical needs."""

    name: str
    terms: tuple[str, ...]
    needs: tuple[NeedRow, ...]
    typical: tuple[NeedRow, ...]


@dataclass(frozen=True)
class AreaGroups:
    """One area of a round: its suggested groups (two needs or more), the untagged needs
    that are like no other (``singles``), and the tags already on its needs."""

    area: str
    area_label: str
    needs: int
    untagged: int
    suggestions: tuple[GroupSuggestion, ...]
    singles: tuple[NeedRow, ...]
    tags: AreaTagCounts


@dataclass(frozen=True)
class AcceptedGroup:
    """What accepting a group did: the label as stored, and how many of the needs got
    it now (``added``) or had it already."""

    round_id: int
    area: str
    label: str
    added: int
    already: int


def group_area(
    needs: Sequence[NeedRow], settings: GroupingSettings = DEFAULT_SETTINGS
) -> tuple[tuple[GroupSuggestion, ...], tuple[NeedRow, ...]]:
    """Suggested groups of ``needs`` (one area's), and the needs left on their own."""
    by_token = {need.key.token: need for need in needs}
    groups = suggest_groups([NeedText(need.key.token, need.text) for need in needs], settings)
    suggestions = tuple(
        GroupSuggestion(
            name=group.name,
            terms=group.terms,
            needs=tuple(by_token[token] for token in group.members),
            typical=tuple(by_token[token] for token in group.typical),
        )
        for group in groups
        if group.size > 1
    )
    singles = tuple(
        sorted(
            (by_token[group.members[0]] for group in groups if group.size == 1),
            key=lambda need: need.key,
        )
    )
    return suggestions, singles


def _tagged(needs: Iterable[NeedRow]) -> list[TaggedNeed]:
    return [TaggedNeed(need.area, need.area_label, need.tags) for need in needs]


async def suggest_for_round(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int,
    *,
    area: str | None = None,
    cache: NeedCache | None = None,
    settings: GroupingSettings = DEFAULT_SETTINGS,
) -> list[AreaGroups]:
    """Each area of the round (or just ``area``) with suggestions for its untagged needs,
    in the survey's order of areas. An area with no needs is left out."""
    needs = [n for n in await all_needs(session, catalog, round_id, cache=cache)]
    if area is not None:
        needs = [n for n in needs if n.area == area]
    counts = {c.area: c for c in count_tags(_tagged(needs))}
    found: list[AreaGroups] = []
    for value, tally in counts.items():
        untagged = [n for n in needs if n.area == value and not n.tags]
        suggestions, singles = group_area(untagged, settings)
        found.append(
            AreaGroups(
                area=value,
                area_label=tally.area_label,
                needs=tally.needs,
                untagged=len(untagged),
                suggestions=suggestions,
                singles=singles,
                tags=tally,
            )
        )
    return found


async def tag_counts(
    session: AsyncSession, catalog: SurveyCatalog, round_id: int, cache: NeedCache | None = None
) -> list[AreaTagCounts]:
    """How many of the round's needs carry each tag, per area (``reports.tag_counts``)."""
    return count_tags(_tagged(await all_needs(session, catalog, round_id, cache=cache)))


async def accept_group(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int,
    area: str,
    label: str,
    keys: Iterable[NeedKey],
    *,
    actor: audit.Actor,
    now: datetime,
    cache: NeedCache | None = None,
) -> AcceptedGroup:
    """Put ``label`` on each need of ``keys``, all of which must be needs of the round in
    ``area``; audited per need (``need.tag``, as the needs browser does) and once for the
    group (``need_group.accept``). ``TagError`` for a bad label, ``GroupError`` for no
    needs, ``NeedError`` for a key that is not a need of that round and area."""
    label = clean_label(label)
    wanted = sorted(set(keys))
    if not wanted:
        raise GroupError("velg minst ett behov til gruppen")
    present = {
        need.key: need
        for need in await all_needs(session, catalog, round_id, cache=cache)
        if need.area == area
    }
    for key in wanted:
        if key not in present:
            raise NeedError(f"fant ikke behov {key.token} i dette området av runden")
    added = 0
    for key in wanted:
        change = await add_tag(session, catalog, key, label, actor=actor.label, now=now)
        label = change.label  # an existing spelling of the label wins, as add_tag decides
        added += change.changed
        audit.record(
            session, actor, "need.tag", f"need:{key.token}", now,
            label=change.label, changed=change.changed, group=True,
        )  # fmt: skip
    audit.record(
        session, actor, "need_group.accept", f"round:{round_id}", now,
        area=area, label=label, needs=len(wanted), added=added,
    )  # fmt: skip
    return AcceptedGroup(round_id, area, label, added, len(wanted) - added)
