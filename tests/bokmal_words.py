"""Words that give bokmål away in a text meant to be nynorsk (issue 15).

Each is a bokmål-only form whose nynorsk counterpart is different (``ikke`` → ``ikkje``,
``hva`` → ``kva``, ``hvordan`` → ``korleis``, ``jeg`` → ``eg``, ``noen`` → ``nokon``,
``også`` → ``òg``, ``mye`` → ``mykje``, ``hvis`` → ``viss``, ``dere`` → ``de``/``dykk``,
``svarene`` → ``svara``, ``spørsmålene`` → ``spørsmåla``). Matched as whole words, case
ignored. Names (organisations, people) never contain them in the tests' data.
"""

from __future__ import annotations

import re

BOKMAL_ONLY = (
    "ikke", "hva", "hvordan", "hvem", "hvorfor", "hvilke", "hvilket", "hvilken", "jeg",
    "noen", "noe", "også", "mye", "hvis", "dere", "deres", "svarene", "spørsmålene",
    "spørsmålet ditt", "fortsatt", "allerede", "ennå", "bare", "hver", "hvert", "være",
    "ble", "vennligst", "velkommen", "frem", "takk for svarene",
)  # fmt: skip

_PATTERN = re.compile(
    r"(?<![\wæøåÆØÅ])(" + "|".join(re.escape(word) for word in BOKMAL_ONLY) + r")(?![\wæøåÆØÅ])",
    re.IGNORECASE,
)


def bokmal_words(text: str) -> list[str]:
    """The bokmål-only words found in ``text`` (empty: it reads as nynorsk)."""
    return [match.group(1) for match in _PATTERN.finditer(text)]
