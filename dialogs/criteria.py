"""KS's ten known priority criteria (from the strategy's checklist, in its order 1-10) and
the three ratings staff give an action against each: the texts members and staff read."""

from __future__ import annotations

CRITERIA: tuple[str, ...] = (
    "Tiltaket har langsiktig betydning for hele kommunesektoren.",
    "Tiltaket er strategisk viktig og nyttig for sektoren.",
    "Tiltaket gjenspeiler sektorens behov.",
    "Tiltaket knytter seg til interessepolitiske og/eller arbeidsgiverpolitiske utfordringer.",
    "Tiltaket har betydning for lokalt handlingsrom, kvalitetsutvikling eller ressursbruk.",
    "Tiltaket gjelder områder med stor økonomisk betydning.",
    "Tiltaket gjelder komplekse og/eller omfattende utfordringer.",
    "Tiltaket handler om nye, innovative måter å løse oppgaver på.",
    "Tiltaket gjelder områder der KS har særlige fortrinn.",
    "Tiltaket hjelper sektoren å realisere gevinster, både kvalitative og økonomiske.",
)

RATINGS: dict[str, str] = {"met": "oppfylt", "partly": "delvis oppfylt", "not": "ikke oppfylt"}
