"""Number formatting for everything a member reads in a report, in the language spoken.

Rounding is half up (3,65 → 3,7), as people round by hand; Python's ``round`` rounds
half to even and would make a published figure look wrong to anyone who checks it.
The decimal sign and the grouping follow the active language (``dialogs.i18n``):
``3,6`` and ``59 %`` in Norwegian and Sámi, ``3.6`` and ``59%`` in English. The names
say ``nb`` for historical reasons (issue 15): they are no longer bokmål only.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_decimal_symbol

from dialogs.i18n import language, t
from dialogs.texts import nb_number


def _half_up(value: float, places: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def nb_decimal(value: float, places: int = 1) -> str:
    """``3,6``: a fixed number of decimals with the language's decimal sign (``3,0`` stays
    ``3,0``; English ``3.0``)."""
    rounded = _half_up(value, places)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = format(abs(rounded), "f").partition(".")
    whole = nb_number(int(whole))
    return (
        f"{sign}{whole}{get_decimal_symbol(language())}{fraction}" if fraction else f"{sign}{whole}"
    )


def nb_percent(share: float) -> str:
    """``59 %``: a share (0–1) as a whole percentage, written as the language writes it."""
    return t("reports.format.percent", value=nb_number(int(_half_up(share * 100, 0))))


def nb_count(value: int) -> str:
    """A whole number the Norwegian way (``1 234`` is written ``1234``, ``12 345`` with a space)."""
    return nb_number(value)
