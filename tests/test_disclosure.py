"""The small-group rule on constructed counts: primary and secondary suppression."""

from __future__ import annotations

from reports.disclosure import (
    MIN_ORGANISATIONS,
    Line,
    binary_hidden,
    derivable,
    hidden_parts,
    protect,
    rule_text,
    too_few,
)


def test_primary_rule_hides_one_to_four_and_shows_none_and_five() -> None:
    assert MIN_ORGANISATIONS == 5
    assert [too_few(n) for n in range(7)] == [False, True, True, True, True, False, False]


def test_a_lone_small_county_takes_the_next_smallest_with_it() -> None:
    # Country total 3+9+12 = 24 is shown; hiding only A (3) would let anyone work it out
    # as 24 - 9 - 12. B goes too, so A and B together rest on 12 organisations.
    assert hidden_parts({"A": 3, "B": 9, "C": 12}) == {"A", "B"}


def test_hidden_parts_together_rest_on_at_least_five() -> None:
    hidden = hidden_parts({"A": 1, "B": 1, "C": 2, "D": 6, "E": 7})
    assert hidden == {"A", "B", "C", "D"}  # 1+1+2 = 4 < 5, so the smallest shown (D) goes too
    assert sum({"A": 1, "B": 1, "C": 2, "D": 6}[k] for k in hidden) >= MIN_ORGANISATIONS


def test_enough_hidden_already_needs_no_second_cell() -> None:
    assert hidden_parts({"A": 2, "B": 3, "C": 20}) == {"A", "B"}


def test_nothing_hidden_when_every_part_is_empty_or_large() -> None:
    assert hidden_parts({"A": 0, "B": 5, "C": 40}) == set()


def test_ties_are_broken_by_key_so_the_result_is_stable() -> None:
    assert hidden_parts({"b": 7, "a": 7, "c": 2}) == {"a", "c"}


def test_a_whole_of_fewer_than_five_hides_every_part_empty_ones_too() -> None:
    assert hidden_parts({"A": 1, "B": 2, "C": 0}) == {"A", "B", "C"}


def test_a_shown_zero_beside_a_whole_of_one_would_give_the_answer_away() -> None:
    # The hole this closes: one respondent, total 1 shown. Hiding only the non-empty cell
    # and showing "0" for the others reads "A = 1 - 0 - 0": that organisation chose A.
    parts = {"A": 1, "B": 0, "C": 0}
    hidden = hidden_parts(parts)
    readable = {key for key in parts if key not in hidden}
    leaked = sum(parts.values()) - sum(parts[key] for key in readable)
    assert hidden == {"A", "B", "C"} and len(hidden) > 1, leaked


def test_parts_hidden_anyway_count_towards_the_five() -> None:
    # organisations in no group (never shown) are a hidden part of the partition
    assert hidden_parts({None: 2, "A": 9, "B": 12}, already={None}) == {None, "A"}
    assert hidden_parts({None: 6, "A": 9, "B": 12}, already={None}) == {None}


def test_a_table_with_national_columns_needs_more_than_row_and_county_rules() -> None:
    # counties by yes/no, the national yes and no shown. County A (3 answers) is hidden
    # and B taken along by the partition rule; yet A and B together have 1 "no": with
    # C, D shown, national no - C - D = 1 would be a figure resting on one organisation.
    counts = {"A": (2, 1), "B": (9, 0), "C": (20, 8), "D": (15, 7)}
    entries: dict[tuple[str, ...], int] = {}
    lines = []
    for column, index in (("yes", 0), ("no", 1)):
        entries[("national", column)] = sum(c[index] for c in counts.values())
        entries |= {(county, column): c[index] for county, c in counts.items()}
        lines.append(Line(("national", column), tuple((county, column) for county in counts)))
    for county, (yes, no) in counts.items():
        entries[(county, "total")] = yes + no
        lines.append(Line((county, "total"), ((county, "yes"), (county, "no"))))
    keep = {e for e in entries if e[0] == "national" or e[1] == "total"}
    rows_only = {(c, k) for c in hidden_parts({c: sum(v) for c, v in counts.items()})
                 for k in ("yes", "no")}  # fmt: skip
    assert sum(entries[e] for e in rows_only if e[1] == "no") == 1  # the hole
    hidden = protect(entries, lines, rows_only, keep=keep)
    assert rows_only < hidden
    for column in ("yes", "no"):
        hidden_sum = sum(entries[e] for e in hidden if e[1] == column)
        assert hidden_sum == 0 or hidden_sum >= MIN_ORGANISATIONS
    assert derivable(lines, hidden) == set()


def test_derivable_finds_what_subtraction_chains_reveal() -> None:
    lines = [Line("r1", ("a", "b")), Line("r2", ("c", "d")), Line("c1", ("a", "c"))]
    # a and c hidden: c1 = a + c, r1 = a + b with b shown gives a, then c
    assert derivable(lines, {"a", "c"}) == {"a", "c"}
    # a, b, c, d hidden around a full cycle: nothing follows
    cycle = [*lines, Line("c2", ("b", "d"))]
    assert derivable(cycle, {"a", "b", "c", "d"}) == set()


def test_binary_share_hidden_when_either_side_is_small() -> None:
    assert binary_hidden(1, 1)  # one respondent: "100 %" would be that organisation's answer
    assert binary_hidden(3, 40)
    assert binary_hidden(37, 40)  # the three who did not choose it are just as exposed
    assert not binary_hidden(0, 40)
    assert not binary_hidden(40, 40)
    assert not binary_hidden(10, 40)


def test_rule_text_states_the_threshold() -> None:
    assert "færre enn 5 organisasjoner" in rule_text()
