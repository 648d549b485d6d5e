"""Peer groups and their figures, for comparing one's own answers with organisations like it.

KS's networks compare for learning, never for ranking, and never to expose one
organisation. A respondent's personal summary sets its own answers beside the country,
its county and its peer groups:

* **county** (fylke), from the organisation's county;
* **size class**, from population: under 5 000, 5 000–19 999, 20 000–49 999, and
  50 000 and over; for municipalities (Oslo included) only, since a county authority's
  population says nothing about its likeness to a municipality;
* **KOSTRA group**, as imported (``members import-attributes``);
* **kind**: municipalities (Oslo included) and county authorities.

An organisation without population or KOSTRA group is in no size class or KOSTRA group,
but still counts nationally and in its county.

Every group's figures come from a table suppressed over the whole partition at once
(all counties; all size classes; all KOSTRA groups; both kinds), never for one
recipient's group alone (``reports.summary.group_cells`` for shares, ``hidden_parts`` for
means), so subtracting shown groups from the national figure cannot reveal a hidden one.
The national figures are the summary's own. Pure: no database.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dialogs.model import Question, Survey
from reports.disclosure import binary_hidden, hidden_parts, too_few
from reports.summary import (
    DEFAULT_MIN_GROUP,
    Counted,
    OptionValue,
    OrgFacts,
    area_specs,
    choice_counts,
    group_cells,
    hidden_options,
)

COUNTY, SIZE, KOSTRA, KIND = "fylke", "storrelse", "kostra", "type"
PARTITIONS = (COUNTY, SIZE, KOSTRA, KIND)
# (upper bound, exclusive; key; label). The last class has no upper bound.
SIZE_CLASSES: tuple[tuple[int | None, str, str], ...] = (
    (5_000, "under-5000", "Kommuner under 5 000 innbyggere"),
    (20_000, "5000-19999", "Kommuner med 5 000–19 999 innbyggere"),
    (50_000, "20000-49999", "Kommuner med 20 000–49 999 innbyggere"),
    (None, "50000-", "Kommuner med 50 000 innbyggere og over"),
)
COUNTY_AUTHORITY = "fylkeskommune"
MUNICIPALITIES = "Kommuner"
COUNTY_AUTHORITIES = "Fylkeskommuner"
CHOICE_TYPES = ("single", "multi", "yesno")
NUMBER_TYPES = ("scale", "number")


@dataclass(frozen=True, order=True)
class PeerGroup:
    """One group of one partition: ``partition`` is ``fylke``, ``storrelse``, ``kostra`` or
    ``type``; ``label`` is what members read."""

    partition: str
    key: str
    label: str


def is_municipality(org: OrgFacts) -> bool:
    """Municipalities and Oslo (both municipality and county authority) count as kommune."""
    return org.kind != COUNTY_AUTHORITY


def size_class(org: OrgFacts) -> PeerGroup | None:
    """The municipality's size class by population; None without one, or for a county
    authority."""
    if org.population is None or not is_municipality(org):
        return None
    for upper, key, label in SIZE_CLASSES:
        if upper is None or org.population < upper:
            return PeerGroup(SIZE, key, label)
    return None  # pragma: no cover - the last class has no upper bound


def kostra_group(org: OrgFacts) -> PeerGroup | None:
    """``KOSTRA-gruppe 7``; None when the organisation has no KOSTRA group."""
    group = (org.kostra_group or "").strip()
    return PeerGroup(KOSTRA, group, f"KOSTRA-gruppe {group}") if group else None


def county_group(org: OrgFacts) -> PeerGroup:
    """The organisation's county, named as the participation table names it."""
    return PeerGroup(COUNTY, org.county_code, org.county_name)


def kind_group(org: OrgFacts) -> PeerGroup:
    """Municipalities (Oslo included) or county authorities."""
    if is_municipality(org):
        return PeerGroup(KIND, "kommune", MUNICIPALITIES)
    return PeerGroup(KIND, COUNTY_AUTHORITY, COUNTY_AUTHORITIES)


GROUP_OF: dict[str, Callable[[OrgFacts], PeerGroup | None]] = {
    COUNTY: county_group,
    SIZE: size_class,
    KOSTRA: kostra_group,
    KIND: kind_group,
}


def peer_groups(org: OrgFacts) -> list[PeerGroup]:
    """The organisation's groups, in reading order: county, size class, KOSTRA group, kind."""
    return [group for partition in PARTITIONS if (group := GROUP_OF[partition](org)) is not None]


@dataclass(frozen=True)
class Figures:
    """The figures of the country or of one group; ``None`` is hidden (or no answers).

    ``shares``: per (question id, option value), the share of those asked who chose it.
    ``means``: per question id (a scale or number question, or an area's urgency
    follow-up), the mean answer.
    """

    respondents: int
    shares: Mapping[tuple[str, OptionValue], float | None]
    means: Mapping[str, float | None]


@dataclass(frozen=True)
class PeerTables:
    """The national figures and every group's, each suppressed over its whole partition."""

    national: Figures
    groups: Mapping[PeerGroup, Figures]
    min_group: int

    def for_org(self, org: OrgFacts) -> list[tuple[PeerGroup, Figures]]:
        """The organisation's groups with their figures, in reading order."""
        return [(group, self.groups[group]) for group in peer_groups(org) if group in self.groups]


def _share(count: int | None, asked: int) -> float | None:
    return count / asked if count is not None and asked else None


def _means(
    values: Sequence[tuple[OrgFacts, float]],
    partitions: Mapping[str, Sequence[PeerGroup]],
    national_hidden: bool,
    min_group: int,
) -> tuple[float | None, dict[PeerGroup, float | None]]:
    """One mean, nationally and per group of every partition. A group's mean is hidden
    with ``hidden_parts`` over how many answered in each group of the partition (those
    in no group are a part never shown), or with the national mean."""
    numbers = [value for _, value in values]
    national = statistics.fmean(numbers) if numbers and not national_hidden else None
    result: dict[PeerGroup, float | None] = {}
    for partition, groups in partitions.items():
        by_group: dict[PeerGroup | None, list[float]] = {g: [] for g in groups}
        for org, value in values:
            by_group.setdefault(GROUP_OF[partition](org), []).append(value)
        sizes = {g: len(v) for g, v in by_group.items()}
        outside: set[PeerGroup | None] = {None} if None in sizes else set()
        hidden = {*hidden_parts(sizes, min_group, outside), *outside}
        for group in groups:
            shown = national is not None and group not in hidden and by_group[group]
            result[group] = statistics.fmean(by_group[group]) if shown else None
    return national, result


def peer_tables(
    survey: Survey,
    counted: Sequence[Counted],
    audience: Sequence[OrgFacts],
    min_group: int = DEFAULT_MIN_GROUP,
) -> PeerTables:
    """Every group's figures (``counted``: ``reports.summary.counted_responses``).

    Shares for single, multi and yes/no questions (areas included); means for scale and
    number questions and for each area's urgency. Groups are those of the audience.
    """
    specs = area_specs(survey)
    consumed = set().union(*(spec.consumed() for spec in specs)) if specs else set()
    questions = [q for q in survey.questions if q.id not in consumed]
    partitions: dict[str, list[PeerGroup]] = {
        partition: sorted({g for org in audience if (g := GROUP_OF[partition](org)) is not None})
        for partition in PARTITIONS
    }
    respondents: dict[PeerGroup, int] = {}
    for c in counted:
        for group in peer_groups(c.org):
            respondents[group] = respondents.get(group, 0) + 1
    national_shares: dict[tuple[str, OptionValue], float | None] = {}
    shares: dict[PeerGroup, dict[tuple[str, OptionValue], float | None]] = {
        g: {} for groups in partitions.values() for g in groups
    }
    for question in (q for q in questions if q.type in CHOICE_TYPES):
        counts = choice_counts(question, counted)
        hidden = hidden_options(question, counts, min_group)
        for value, count in counts.counts.items():
            national_shares[(question.id, value)] = (
                None if value in hidden else _share(count, counts.asked)
            )
        for partition, groups in partitions.items():
            table = group_cells(question, counted, GROUP_OF[partition], groups, min_group)
            for group, cells in table.items():
                for value, cell in cells.counts.items():
                    shares[group][(question.id, value)] = _share(cell, cells.asked)
    national_means: dict[str, float | None] = {}
    means: dict[PeerGroup, dict[str, float | None]] = {g: {} for g in shares}

    def add_mean(question: Question, among: Sequence[Counted], national_hidden: bool) -> None:
        values = [
            (c.org, float(v))
            for c in among
            if isinstance(v := c.answers.get(question.id), int | float) and not isinstance(v, bool)
        ]
        hidden = national_hidden or too_few(len(values), min_group)
        national, per_group = _means(values, partitions, hidden, min_group)
        national_means[question.id] = national
        for group in means:
            means[group][question.id] = per_group.get(group)

    for question in (q for q in questions if q.type in NUMBER_TYPES):
        add_mean(question, counted, False)
    for spec in specs:
        area_counts = choice_counts(spec.question, counted)
        for area, urgency_q in spec.urgency.items():
            chose = [
                c
                for c in counted
                if isinstance(chosen := c.answers.get(spec.question.id), list) and area in chosen
            ]
            add_mean(
                urgency_q,
                chose,
                binary_hidden(len(chose), area_counts.answered, min_group),
            )
    return PeerTables(
        national=Figures(len(counted), national_shares, national_means),
        groups={
            g: Figures(respondents.get(g, 0), shares[g], means[g])
            for groups in partitions.values()
            for g in groups
        },
        min_group=min_group,
    )
