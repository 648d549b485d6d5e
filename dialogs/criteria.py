"""KS's ten known priority criteria and the ratings staff give an action against each.

The strategy says the criteria for prioritising development work must be known to the
members; these are its checklist's ten points (in its order, criterion 1-10), in short
names members and staff read beside each action. ``CRITERIA`` and ``RATINGS`` are the
bokmål names the staff workspace, the CLI and the reports read; members read
``criterion_name`` and ``rating_name`` in their own language (the ``actions`` catalogue,
whose bokmål is the same words).
"""

from __future__ import annotations

from collections.abc import Callable

from dialogs.i18n import t

CRITERIA: tuple[str, ...] = (
    "Langsiktig betydning for hele kommunesektoren",
    "Strategisk viktig og nyttig for sektoren",
    "Gjenspeiler sektorens behov",
    "Knyttet til interessepolitiske eller arbeidsgiverpolitiske utfordringer",
    "Betyr noe for lokalt handlingsrom, kvalitetsutvikling eller ressursbruk",
    "Gjelder områder med stor økonomisk betydning",
    "Gjelder komplekse eller omfattende utfordringer",
    "Nye, innovative måter å løse oppgaver på",
    "Gjelder områder der KS har særlige fortrinn",
    "Hjelper sektoren å hente ut gevinster, kvalitative og økonomiske",
)

RATINGS: dict[str, str] = {"met": "oppfylt", "partly": "delvis oppfylt", "not": "ikke oppfylt"}

# One literal key per criterion, so the catalogue test sees each of them.
_CRITERION_TEXTS: tuple[Callable[[], str], ...] = (
    lambda: t("actions.criterion.1"),
    lambda: t("actions.criterion.2"),
    lambda: t("actions.criterion.3"),
    lambda: t("actions.criterion.4"),
    lambda: t("actions.criterion.5"),
    lambda: t("actions.criterion.6"),
    lambda: t("actions.criterion.7"),
    lambda: t("actions.criterion.8"),
    lambda: t("actions.criterion.9"),
    lambda: t("actions.criterion.10"),
)
_RATING_TEXTS: dict[str, Callable[[], str]] = {
    "met": lambda: t("actions.rating.met"),
    "partly": lambda: t("actions.rating.partly"),
    "not": lambda: t("actions.rating.not"),
}


def criterion_name(number: int) -> str:
    """The short name of criterion ``number`` (1-10) in the language being spoken;
    ``ValueError`` outside that range."""
    if not 1 <= number <= len(CRITERIA):
        raise ValueError(f"criterion {number} is not 1-{len(CRITERIA)}")
    return _CRITERION_TEXTS[number - 1]()


def rating_name(rating: str) -> str:
    """``partly`` -> ``delvis oppfylt``, in the language being spoken (unknown: as given)."""
    text = _RATING_TEXTS.get(rating)
    return text() if text else rating
