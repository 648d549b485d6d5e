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


def table_leaks(
    multi: bool,
    national_answered: int,
    national: Mapping[Any, tuple[int, bool]],
    groups: Mapping[Hashable, tuple[int, Mapping[Any, tuple[int, bool]]]],
    *,
    rule: bool = True,
) -> set[Hashable]:
    """What subtracting reveals in one table of groups by answers.

    ``national``: per column value, (true count, shown?); ``groups``: per group, (its
    answers, per column value (true count, shown?)). A group's answers count as known
    (participation is public); a group never shown (organisations in no group) simply
    has nothing shown. For a multi question each option is chose / did not, so a "did not"
    figure (answers minus choosers) is shown exactly when its "chose" figure is.
    ``rule``: also check that no shown figure rests on 1 to 4 organisations (off for a
    naive table shown to demonstrate a leak).
    """
    values: dict[Hashable, int] = {("all",): national_answered}
    shown: set[Hashable] = {("all",)}
    lines: list[Line] = []
    kinds = ("yes", "no") if multi else ("yes",)
    for group, (answered, _) in groups.items():
        values[("group", group)] = answered
        shown.add(("group", group))
    for value, (count, visible) in national.items():
        values[("national", value, "yes")] = count
        if multi:
            values[("national", value, "no")] = national_answered - count
        if visible:
            shown |= {("national", value, kind) for kind in kinds}
        for group, (answered, cells) in groups.items():
            true, cell_visible = cells.get(value, (0, False))
            values[("cell", group, value, "yes")] = true
            if multi:
                values[("cell", group, value, "no")] = answered - true
            if cell_visible and rule:
                assert not small(true) and not (multi and small(answered - true)), (group, value)
            if cell_visible:
                shown |= {("cell", group, value, kind) for kind in kinds}
        for kind in kinds:
            lines.append((("national", value, kind), [("cell", g, value, kind) for g in groups]))
        if multi:
            lines.append((("all",), [("national", value, k) for k in kinds]))
            for group in groups:
                lines.append((("group", group), [("cell", group, value, k) for k in kinds]))
    if not multi:
        lines.append((("all",), [("national", value, "yes") for value in national]))
        for group in groups:
            lines.append((("group", group), [("cell", group, v, "yes") for v in national]))
    return exposed(values, shown, lines)


def county_table_leaks(
    question: QuestionSummary,
    breakdown: CountyBreakdown,
    raw: Mapping[str, Mapping[Any, int]],
    answered: Mapping[str, int],
) -> set[Hashable]:
    """Every figure a member sees of one question, nationally and per county (the
    summary's own tables), and what subtracting reveals. ``raw``: true counts per county
    and column value; ``answered``: true answers per county."""
    options = list(question.options or (question.stats.distribution if question.stats else ()))
    national = {
        o.value: (sum(raw[c].get(o.value, 0) for c in answered), o.count is not None)
        for o in options
    }
    for option in options:
        assert option.count is None or option.count == national[option.value][0]
    rows = {row.county_code: row for row in breakdown.rows}
    groups = {
        county: (
            total,
            {
                o.value: (raw[county].get(o.value, 0), rows[county].cells[i] is not None)
                for i, o in enumerate(options)
            },
        )
        for county, total in answered.items()
    }
    for county in answered:
        for i, o in enumerate(options):
            cell = rows[county].cells[i]
            assert cell is None or cell == raw[county].get(o.value, 0)
    return table_leaks(question.type == "multi", question.answered, national, groups)
