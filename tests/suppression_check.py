"""The small-group rule worked out by hand, and an attacker who subtracts, for the tests.

``hand_hidden`` is the rule for one row of figures as KS states it (primary: 1 to 4
hidden; secondary: the smallest others while the hidden ones rest on fewer than 5).
``exposed`` plays a member with every published table in front of them: wherever a sum
is known (a row's total, a column's national figure) and only one of its figures is
missing, they subtract; they repeat until nothing more follows. Whatever they learn that
was hidden is a leak. It is written here without the code under test (which checks the
same with linear algebra), so the two can catch each other's mistakes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from reports.summary import CountyBreakdown, QuestionSummary

THRESHOLD = 5


def small(count: int) -> bool:
    return 0 < count < THRESHOLD


def hand_hidden(cells: Mapping[Any, int]) -> set[Any]:
    """Which figures of one row (adding up to a shown whole) the rule hides."""
    if small(sum(cells.values())):
        return set(cells)
    hidden = {key for key, count in cells.items() if small(count)}
    while 0 < sum(cells[key] for key in hidden) < THRESHOLD:
        candidates = sorted(
            (count, str(key)) for key, count in cells.items() if key not in hidden and count
        )
        if not candidates:
            break
        hidden |= {key for key in cells if str(key) == candidates[0][1]}
    return hidden


def hand_binary(chosen: int, total: int) -> bool:
    """Whether "chosen of total" is hidden: either side, or the whole, is 1 to 4."""
    return small(total) or small(chosen) or small(total - chosen)


Line = tuple[Hashable, Sequence[Hashable]]  # (whole, parts): the parts add up to the whole


def exposed(
    values: Mapping[Hashable, int], shown: Iterable[Hashable], lines: Sequence[Line]
) -> set[Hashable]:
    """The hidden figures a reader can work out by subtracting, given the true ``values``,
    which of them are ``shown``, and the sums they know hold."""
    known = {entry: values[entry] for entry in shown}
    hidden = set(values) - set(known)
    progress = True
    while progress:
        progress = False
        for whole, parts in lines:
            missing = [e for e in (whole, *parts) if e not in known]
            if len(missing) != 1:
                continue
            (entry,) = missing
            if entry == whole:
                known[entry] = sum(known[p] for p in parts)
            else:
                known[entry] = known[whole] - sum(known[p] for p in parts if p != entry)
            assert known[entry] == values[entry], "the sums must hold"
            progress = True
    return hidden & set(known)


def county_table_leaks(
    question: QuestionSummary,
    breakdown: CountyBreakdown,
    raw: Mapping[str, Mapping[Any, int]],
    answered: Mapping[str, int],
) -> set[Hashable]:
    """Every figure a member sees of one question, nationally and per county, and what
    subtracting reveals. ``raw``: true counts per county and column value; ``answered``:
    true answers per county (treated as known: participation is public).

    For a multi question each option is chose / did not, so a "not" figure (answers
    minus choosers) is part of the table too.
    """
    values: dict[Hashable, int] = {("all",): question.answered}
    shown: set[Hashable] = {("all",)}
    lines: list[Line] = []
    options = list(question.options or (question.stats.distribution if question.stats else ()))
    pairs = [(o.value, o.count) for o in options]
    multi = question.type == "multi"
    cells = [(value, kind) for value, _ in pairs for kind in (("yes", "no") if multi else ("yes",))]
    for county, total in answered.items():
        values[("county", county)] = total
        shown.add(("county", county))
    for value, count in pairs:
        national = sum(raw[c].get(value, 0) for c in answered)
        values[("national", value, "yes")] = national
        if count is not None:
            assert count == national
            shown.add(("national", value, "yes"))
        if multi:
            values[("national", value, "no")] = question.answered - national
            if count is not None:
                shown.add(("national", value, "no"))
    rows = {row.county_code: row for row in breakdown.rows}
    for county in answered:
        row = rows[county]
        for index, (value, _) in enumerate(pairs):
            true = raw[county].get(value, 0)
            values[("cell", county, value, "yes")] = true
            if row.cells[index] is not None:
                assert row.cells[index] == true and not small(true)
                shown.add(("cell", county, value, "yes"))
            if multi:
                values[("cell", county, value, "no")] = answered[county] - true
                if row.cells[index] is not None:
                    shown.add(("cell", county, value, "no"))
    for value, kind in cells:
        lines.append((("national", value, kind), [("cell", c, value, kind) for c in answered]))
    if multi:
        for value, _ in pairs:
            lines.append((("all",), [("national", value, k) for k in ("yes", "no")]))
            for county in answered:
                lines.append(
                    (("county", county), [("cell", county, value, k) for k in ("yes", "no")])
                )
    else:
        lines.append((("all",), [("national", value, "yes") for value, _ in pairs]))
        for county in answered:
            lines.append((("county", county), [("cell", county, v, "yes") for v, _ in pairs]))
    return exposed(values, shown, lines)
