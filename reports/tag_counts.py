"""How many needs carry each tag (staff's labels, accepted groups among them), per area.

Pure: the needs of a round with their area and tags in, counts out
(``services/need_groups.py`` reads the needs). Labels are compared without regard to
capitals, as ``services/need_tags.py`` keeps them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TaggedNeed:
    """One need: its area (value and label) and its tags."""

    area: str
    area_label: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class TagCount:
    """A tag and on how many of the area's needs it is."""

    label: str
    needs: int


@dataclass(frozen=True)
class AreaTagCounts:
    """An area's needs, how many carry at least one tag, and each tag's count (most used
    first, then alphabetically)."""

    area: str
    area_label: str
    needs: int
    tagged: int
    tags: tuple[TagCount, ...]

    @property
    def untagged(self) -> int:
        return self.needs - self.tagged


def count_tags(needs: Iterable[TaggedNeed]) -> list[AreaTagCounts]:
    """Counts per area, in the order the areas first come in. A need with two tags
    counts once for each; a label spelled with other capitals counts as the same (shown
    as first met)."""
    labels: dict[str, str] = {}
    totals: Counter[str] = Counter()
    tagged: Counter[str] = Counter()
    per_tag: dict[str, Counter[str]] = {}
    spelled: dict[str, str] = {}
    for need in needs:
        labels.setdefault(need.area, need.area_label)
        totals[need.area] += 1
        tagged[need.area] += bool(need.tags)
        counted = per_tag.setdefault(need.area, Counter())
        for key in {tag.casefold() for tag in need.tags}:
            counted[key] += 1
        for tag in need.tags:
            spelled.setdefault(tag.casefold(), tag)
    return [
        AreaTagCounts(
            area=area,
            area_label=label,
            needs=totals[area],
            tagged=tagged[area],
            tags=tuple(
                sorted(
                    (TagCount(spelled[key], number) for key, number in per_tag[area].items()),
                    key=lambda count: (-count.needs, count.label.casefold()),
                )
            ),
        )
        for area, label in labels.items()
    ]
