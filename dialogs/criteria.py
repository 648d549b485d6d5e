"""KS's ten known priority criteria and the ratings staff give an action against each.

The strategy says the criteria for prioritising development work must be known to the
members; these are its checklist's ten points (in its order, criterion 1-10), in short
Norwegian names members and staff read beside each action. Pure data: the workspace's
assessment form, ``/tiltak`` and the reports all read it from here.
"""

from __future__ import annotations

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


def criterion_name(number: int) -> str:
    """The short name of criterion ``number`` (1-10); ``ValueError`` outside that range."""
    if not 1 <= number <= len(CRITERIA):
        raise ValueError(f"criterion {number} is not 1-{len(CRITERIA)}")
    return CRITERIA[number - 1]
