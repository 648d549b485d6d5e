"""Norwegian number formatting for everything a member reads in a report.

Rounding is half up (3,65 → 3,7), as people round by hand; Python's ``round`` rounds
half to even and would make a published figure look wrong to anyone who checks it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from dialogs.texts import nb_number


def _half_up(value: float, places: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def nb_decimal(value: float, places: int = 1) -> str:
    """``3,6``: a fixed number of decimals with a decimal comma (``3,0`` stays ``3,0``)."""
    rounded = _half_up(value, places)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = format(abs(rounded), "f").partition(".")
    whole = nb_number(int(whole))
    return f"{sign}{whole},{fraction}" if fraction else f"{sign}{whole}"


def nb_percent(share: float) -> str:
    """``59 %``: a share (0–1) as a whole percentage, with a space before the sign."""
    return f"{nb_number(int(_half_up(share * 100, 0)))} %"


def nb_count(value: int) -> str:
    """A whole number the Norwegian way (``1 234`` is written ``1234``, ``12 345`` with a space)."""
    return nb_number(value)
