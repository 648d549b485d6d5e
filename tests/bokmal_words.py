"""Words that give bokmål away in a text meant to be nynorsk (issue 15).

Each is a bokmål-only form whose nynorsk counterpart is different (``ikke`` → ``ikkje``,
``hva`` → ``kva``, ``hvordan`` → ``korleis``, ``jeg`` → ``eg``, ``noen`` → ``nokon``,
``også`` → ``òg``, ``mye`` → ``mykje``, ``hvis`` → ``viss``, ``dere`` → ``de``/``dykk``,
``svarene`` → ``svara``, ``spørsmålene`` → ``spørsmåla``, ``bruker`` → ``brukar``). Matched as whole words, case
ignored. Names (organisations, people) never contain them in the tests' data.
"""

from __future__ import annotations

import re

BOKMAL_ONLY = (
    "ikke", "hva", "hvordan", "hvem", "hvorfor", "hvilke", "hvilket", "hvilken", "jeg",
    "noen", "noe", "også", "mye", "hvis", "dere", "deres", "svarene", "spørsmålene",
    "spørsmålet ditt", "fortsatt", "allerede", "ennå", "bare", "hver", "hvert", "være",
    "ble", "vennligst", "velkommen", "frem", "takk for svarene",
    # present tense and other forms that differ (nn: brukar, treng, ønskjer, opnar, endrar,
    # vel, koplar, byrjar, held fram, gjeld, tyder, høyrer, snakkar, seier, gjer, veit, kjem,
    # finst, synest, meir, frå, kor, utan, saman, seinare, tidlegare, veke, heim)
    "bruker", "trenger", "ønsker", "åpner", "endrer", "velger", "kobler", "begynner",
    "fortsetter", "gjelder", "betyr", "hører", "snakker", "sier", "gjør", "vet", "kommer",
    "finnes", "synes", "mer", "fra", "hvor", "uten", "sammen", "senere", "tidligere", "uke",
    "hjem", "vises", "lagres", "brukes",
)  # fmt: skip

_PATTERN = re.compile(
    r"(?<![\wæøåÆØÅ])(" + "|".join(re.escape(word) for word in BOKMAL_ONLY) + r")(?![\wæøåÆØÅ])",
    re.IGNORECASE,
)


def bokmal_words(text: str) -> list[str]:
    """The bokmål-only words found in ``text`` (empty: it reads as nynorsk)."""
    return [match.group(1) for match in _PATTERN.finditer(text)]
