"""The small-group rule on constructed counts: primary and secondary suppression."""

from __future__ import annotations

from reports.disclosure import MIN_ORGANISATIONS, binary_hidden, hidden_parts, rule_text, too_few


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


def test_a_whole_of_fewer_than_five_hides_everything_nonempty() -> None:
    assert hidden_parts({"A": 1, "B": 2, "C": 0}) == {"A", "B"}


def test_binary_share_hidden_when_either_side_is_small() -> None:
    assert binary_hidden(1, 1)  # one respondent: "100 %" would be that organisation's answer
    assert binary_hidden(3, 40)
    assert binary_hidden(37, 40)  # the three who did not choose it are just as exposed
    assert not binary_hidden(0, 40)
    assert not binary_hidden(40, 40)
    assert not binary_hidden(10, 40)


def test_rule_text_states_the_threshold() -> None:
    assert "færre enn 5 organisasjoner" in rule_text()
