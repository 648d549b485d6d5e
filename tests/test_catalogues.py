"""The message catalogues are complete: every key in every language, the same
placeholders, every key the code asks for exists, and nynorsk reads as nynorsk."""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.dates import format_datetime

from dialogs.catalogues import entries
from dialogs.i18n import LANGUAGES, SOURCE, placeholders, plural_categories, speaking, t, tn
from tests.bokmal_words import bokmal_words

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("dialogs", "services", "scheduler", "reports", "bot", "storage")
PLURAL = re.compile(r"^(?P<family>.+)\.(?P<category>zero|one|two|few|many|other)$")
TRANSLATIONS = [language for language in LANGUAGES if language != SOURCE]


def _families(keys: set[str]) -> tuple[set[str], set[str]]:
    """Plain keys, and the counted families (key without its category)."""
    plain, counted = set(), set()
    for key in keys:
        match = PLURAL.match(key)
        if match:
            counted.add(match["family"])
        else:
            plain.add(key)
    return plain, counted


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_text_has_every_language(language: str) -> None:
    source_plain, source_counted = _families(set(entries(SOURCE)))
    keys = set(entries(language))
    plain, counted = _families(keys)
    assert sorted(source_plain - plain) == [], f"{language} lacks these texts"
    assert sorted(plain - source_plain) == [], f"{language} has texts bokmål does not"
    assert sorted(source_counted ^ counted) == [], f"{language}: counted texts differ"
    needed = plural_categories(language)
    lacking = [f"{family}.{c}" for family in counted for c in needed if f"{family}.{c}" not in keys]
    assert lacking == [], f"{language} lacks plural forms {needed}"


def test_bokmal_has_every_plural_form() -> None:
    keys = set(entries(SOURCE))
    _plain, counted = _families(keys)
    lacking = [
        f"{f}.{c}" for f in counted for c in plural_categories(SOURCE) if f"{f}.{c}" not in keys
    ]
    assert lacking == []


def _source_placeholders(key: str, source: dict[str, str]) -> frozenset[str]:
    if key in source:
        return placeholders(source[key])
    match = PLURAL.match(key)
    assert match, key
    return placeholders(source[f"{match['family']}.other"])


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_placeholders_are_the_same(language: str) -> None:
    source = {key: entry.text for key, entry in entries(SOURCE).items()}
    wrong = []
    for key, entry in entries(language).items():
        expected = _source_placeholders(key, source)
        found = placeholders(entry.text)
        if PLURAL.match(key):  # "ett alternativ" may leave the count out
            expected, found = expected - {"count"}, found - {"count"}
        if found != expected:
            wrong.append(
                f"{entry.domain}.po:{entry.line} {key}: {sorted(found)} ≠ {sorted(expected)}"
            )
    assert wrong == []


def _asked_keys() -> list[tuple[str, str, bool]]:
    """``(where, key, counted)`` for every t/tn call with a literal key in the code."""
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                first = node.args[0]
                if (
                    name in {"t", "tn"}
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.append((where, first.value, name == "tn"))
    return found


def test_every_key_the_code_asks_for_exists() -> None:
    keys = set(entries(SOURCE))
    asked = _asked_keys()
    assert len(asked) > 10  # the scan sees the code
    missing = [
        f"{where}: {key}"
        for where, key, counted in asked
        if (f"{key}.other" if counted else key) not in keys
    ]
    assert missing == []


def test_nynorsk_reads_as_nynorsk() -> None:
    found = [
        f"{entry.domain}.po:{entry.line} {entry.key}: {bokmal_words(entry.text)}"
        for entry in entries("nn").values()
        if bokmal_words(entry.text)
    ]
    assert found == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_date_patterns_are_babel_patterns(language: str) -> None:
    with speaking(language):
        pattern = t("format.datetime")
        text = format_datetime(datetime(2026, 12, 15, 12, 0), pattern, locale=language)
    assert "2026" in text and "15" in text and "12" in text


def test_a_counted_text_picks_its_form() -> None:
    with speaking("nb"):
        assert "1 alternativ i" in tn("survey_types.ranking.too_few", 1)
        assert "3 alternativer" in tn("survey_types.ranking.too_few", 3)
    with speaking("se"):  # nordsamisk has a dual; the catalogue gives it
        assert tn("survey_types.ranking.too_few", 2).startswith("Vállje 2 ")


def test_missing_language_falls_back_to_bokmal() -> None:
    with speaking("xx"):
        assert t("common.yes") == "Ja"
