"""Which figures may be shared with members: the small-group rule, with secondary suppression.

Everything Lyttepost shows members (the national summary, county and peer-group
figures, trends, the personal comparison) rests on answers from identifiable
organisations. KS compares for learning, never to expose one organisation, so:

* **Primary suppression.** A figure that rests on fewer than ``MIN_ORGANISATIONS``
  organisations (but not none) is hidden: a group with 1-4 respondents, or a count
  cell of 1-4 organisations giving one answer.
* **Secondary suppression.** Where figures add up to a total that is shown (the
  cells of one question's row; the counties, size classes or KOSTRA groups that
  together make up the country), hidden ones must together rest on at least
  ``MIN_ORGANISATIONS`` organisations; while they do not, the smallest shown one is
  hidden too. Subtracting the shown figures from the total then reveals at most a
  figure about five or more organisations together, never one organisation's answer.

* **Tables.** A table of groups by answers (counties by options, say) has more sums
  than one: each group's row adds up to the group's answers, each answer's column to the
  national figure. ``protect`` applies the rule to every such line until none leaves a
  hidden figure alone or resting on fewer than ``MIN_ORGANISATIONS``, then checks with
  exact linear algebra (``derivable``) that no hidden figure follows from the shown ones
  through any combination of the sums, and hides more until none does.

The functions are pure and work on counts only, so the rule can be checked on
constructed data without a database (tests/test_disclosure.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence, Set
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from dialogs.i18n import t

MIN_ORGANISATIONS = 5


HIDDEN = "–"  # how a hidden figure reads everywhere members and staff see it

K = TypeVar("K", bound=Hashable)
E = TypeVar("E", bound=Hashable)
V = TypeVar("V")


def rule_text(min_count: int = MIN_ORGANISATIONS) -> str:
    """The rule in the words members read with every table that follows it, in the
    language being spoken (``reports.rule.small_groups``)."""
    return t("reports.rule.small_groups", min=min_count)


def too_few(count: int, min_count: int = MIN_ORGANISATIONS) -> bool:
    """Primary suppression of one figure: it rests on 1 to ``min_count - 1`` organisations."""
    return 0 < count < min_count


def shown(value: V | None, show: Callable[[V], str]) -> str:
    """A figure as text, or ``HIDDEN`` when the rule hid it (``None``)."""
    return HIDDEN if value is None else show(value)


def hidden_parts(
    parts: Mapping[K, int],
    min_count: int = MIN_ORGANISATIONS,
    already: Set[K] = frozenset(),
) -> set[K]:
    """The parts of a whole to hide, given how many organisations each part rests on.

    ``parts`` are the cells of a row (organisations per answer) or the groups of a
    partition (respondents per county); their sum is the whole, which is assumed shown.
    ``already`` are parts hidden anyway (e.g. organisations in no group, never shown).
    Parts are hidden by the primary rule, then the smallest shown non-empty parts
    (ties by key, so the result is stable) until the hidden ones together rest on at
    least ``min_count`` organisations or nothing is left to hide. When the whole itself
    rests on fewer than ``min_count``, every part is hidden, empty ones too: beside a
    shown whole of 1, a shown 0 for every other answer would give the one answer away.
    """
    if too_few(sum(parts.values()), min_count):
        return set(parts)
    hidden = {key for key, count in parts.items() if too_few(count, min_count)}
    hidden |= {key for key in already if key in parts}
    while 0 < sum(parts[key] for key in hidden) < min_count:
        candidates = [key for key, count in parts.items() if key not in hidden and count > 0]
        if not candidates:
            break
        hidden.add(min(candidates, key=lambda key: (parts[key], str(key))))
    return hidden


def binary_hidden(chosen: int, total: int, min_count: int = MIN_ORGANISATIONS) -> bool:
    """Whether a share "``chosen`` of ``total``" must be hidden.

    It is a row of two cells (chose it, did not), so it is hidden when either cell rests
    on 1 to ``min_count - 1`` organisations, or the whole does.
    """
    if too_few(total, min_count):
        return True
    return bool(hidden_parts({"yes": chosen, "no": total - chosen}, min_count))


# --- tables with more than one sum --------------------------------------------------------


@dataclass(frozen=True)
class Line(Generic[E]):
    """One sum a reader knows holds: the ``parts`` add up to the ``whole``."""

    whole: E
    parts: tuple[E, ...]


def derivable(lines: Sequence[Line[E]], hidden: Set[E]) -> set[E]:
    """The hidden entries whose exact value follows from the shown ones and the sums.

    Each line is an equation ``sum(parts) - whole = 0``; with the shown entries moved to
    the right-hand side, a hidden entry is determined exactly when its unit vector lies in
    the row space of the equations over the hidden entries (Gauss-Jordan elimination with
    exact fractions: some reduced row is that unit vector).
    """
    unknowns = sorted(
        {e for line in lines for e in (line.whole, *line.parts) if e in hidden}, key=repr
    )
    index = {e: i for i, e in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for line in lines:
        row = [Fraction(0)] * len(unknowns)
        for part in line.parts:
            if part in hidden:
                row[index[part]] += 1
        if line.whole in hidden:
            row[index[line.whole]] -= 1
        if any(row):
            rows.append(row)
    pivot_row = 0
    for column in range(len(unknowns)):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][column]), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [value / lead for value in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][column]:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return {
        unknowns[row.index(Fraction(1))]
        for row in rows[:pivot_row]
        if sum(1 for value in row if value) == 1
    }


def protect(
    counts: Mapping[E, int],
    lines: Sequence[Line[E]],
    hidden: Set[E] = frozenset(),
    *,
    keep: Set[E] = frozenset(),
    min_count: int = MIN_ORGANISATIONS,
) -> set[E]:
    """Which entries of a table to hide so that none is too small or can be worked out.

    ``counts`` gives how many organisations each entry (cell, group total, national
    figure) rests on; ``lines`` the sums a reader knows; ``hidden`` entries already hidden;
    ``keep`` entries that stay shown whatever happens (participation counts, figures
    already published). The result includes ``hidden``. Rules, until nothing changes:

    * primary: an entry of 1 to ``min_count - 1`` is hidden (unless kept), and so is every
      part of a line whose whole is that small;
    * per line with a shown whole: hidden parts must rest on ``min_count`` or more
      together, else the smallest shown non-empty part goes too;
    * per line with a hidden whole: at least one part must be hidden, or the whole is
      their sum;
    * finally, ``derivable`` must find nothing; while it does, the smallest shown part of
      a line holding a derivable entry is hidden too.
    """
    result = set(hidden) | {e for e, n in counts.items() if too_few(n, min_count) and e not in keep}
    for line in lines:
        if too_few(counts[line.whole], min_count):
            result |= {part for part in line.parts if part not in keep}

    def smallest_shown(line: Line[E], *, non_empty: bool) -> E | None:
        candidates = [
            p
            for p in line.parts
            if p not in result and p not in keep and (counts[p] > 0 or not non_empty)
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda p: (counts[p] == 0, counts[p], repr(p)))

    options: dict[str, E] = {}
    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                hidden_sum = sum(counts[p] for p in line.parts if p in result)
                any_hidden = any(p in result for p in line.parts)
                if line.whole in result:
                    needed = not any_hidden
                else:
                    needed = 0 < hidden_sum < min_count
                if needed:
                    extra = smallest_shown(line, non_empty=True) or smallest_shown(
                        line, non_empty=False
                    )
                    if extra is not None:
                        result.add(extra)
                        changed = True
        # A derivable entry is pinned by some line with few unknowns: widen the line that
        # holds it with the fewest hidden entries, by its smallest shown part.
        choices = []
        for entry in sorted(derivable(lines, result), key=repr):
            for line in lines:
                if entry != line.whole and entry not in line.parts:
                    continue
                unknown = sum(1 for e in (line.whole, *line.parts) if e in result)
                option = smallest_shown(line, non_empty=True) or smallest_shown(
                    line, non_empty=False
                )
                if option is not None:
                    choices.append((unknown, counts[option] == 0, counts[option], repr(option)))
                    options[repr(option)] = option
            if choices:
                break
        extra = options[min(choices)[3]] if choices else None
        if extra is None:
            return result
        result.add(extra)
