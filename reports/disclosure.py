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

The functions are pure and work on counts only, so the rule can be checked on
constructed data without a database (tests/test_disclosure.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

MIN_ORGANISATIONS = 5

RULE_TEXT = (
    "Tall som bygger på færre enn {min} organisasjoner, vises ikke («–»). Der et skjult tall "
    "kunne regnes ut fra de andre, skjules også det nest minste, slik at ingen organisasjons "
    "svar kan leses eller regnes ut."
)

K = TypeVar("K", bound=Hashable)


def rule_text(min_count: int = MIN_ORGANISATIONS) -> str:
    """The rule in the words members read with every table that follows it."""
    return RULE_TEXT.format(min=min_count)


def too_few(count: int, min_count: int = MIN_ORGANISATIONS) -> bool:
    """Primary suppression of one figure: it rests on 1 to ``min_count - 1`` organisations."""
    return 0 < count < min_count


def hidden_parts(parts: Mapping[K, int], min_count: int = MIN_ORGANISATIONS) -> set[K]:
    """The parts of a whole to hide, given how many organisations each part rests on.

    ``parts`` are the cells of a row (organisations per answer) or the groups of a
    partition (respondents per county); their sum is the whole, which is assumed shown.
    Parts are hidden by the primary rule, then the smallest shown non-empty parts
    (ties by key, so the result is stable) until the hidden ones together rest on at
    least ``min_count`` organisations or nothing is left to hide.
    """
    hidden = {key for key, count in parts.items() if too_few(count, min_count)}
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
