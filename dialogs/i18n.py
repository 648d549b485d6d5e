"""The port through which the core asks for the texts people read, in their language.

Every text a member sees is a key in a message catalogue (``dialogs/locale``, one
gettext ``.po`` file per domain and language). Code asks ``t("survey.button.back")``
and gets the text in the *active* language, which the caller chooses per recipient
with ``speaking(language)``: a turn in the conversation speaks the contact's language,
a reminder loop speaks each recipient's. The active language is a context variable, so
concurrent turns in one event loop never see each other's language, and the engine
stays a plain function of its inputs (``StepContext.language`` says which).

Plural forms are separate keys with CLDR's category as the last part
(``….one``, ``….two``, ``….other``): ``tn("x.members", 3)`` picks ``x.members.other``.
Nordsamisk has a dual (``two``); bokmål, nynorsk and English have ``one`` and ``other``.
A key missing in a language falls back to bokmål (the source); a key missing in bokmål
is a bug that the catalogue tests catch, and returns the key itself so nobody crashes.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Literal, Protocol

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal

log = logging.getLogger(__name__)

Language = Literal["nb", "nn", "se", "en"]
SOURCE: Language = "nb"  # what every other language is translated from, and falls back to
LANGUAGES: tuple[Language, ...] = ("nb", "nn", "se", "en")
# Offered to members; English is for KS staff's demos and tests (issue 15).
MEMBER_LANGUAGES: tuple[Language, ...] = ("nb", "nn", "se")
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def is_language(code: str) -> bool:
    """Whether ``code`` is one of the catalogues' languages."""
    return code in LANGUAGES


def plural_categories(language: str) -> tuple[str, ...]:
    """The CLDR plural categories a language's catalogue must give for a counted text."""
    rule = Locale.parse(language).plural_form
    return tuple(category for category in PLURAL_CATEGORIES if category in rule.tags | {"other"})


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` fields of a catalogue text (``{{`` is a literal brace)."""
    names = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    return frozenset(names)


class Texts(Protocol):
    """What the core needs of a catalogue: a text by key, counted texts, and numbers."""

    @property
    def language(self) -> str: ...

    def text(self, key: str, /, **params: object) -> str: ...

    def counted(self, key: str, count: int, /, **params: object) -> str: ...

    def number(self, value: int | float | Decimal) -> str: ...


@dataclass(frozen=True)
class CatalogueTexts:
    """``Texts`` backed by a loaded catalogue, falling back to the source language."""

    language: str
    messages: Mapping[str, str]
    fallback: Mapping[str, str] = field(default_factory=dict)

    def raw(self, key: str) -> str | None:
        """The catalogue text of ``key`` before its placeholders are filled."""
        found = self.messages.get(key)
        if found is None:
            found = self.fallback.get(key)
        return found

    def text(self, key: str, /, **params: object) -> str:
        raw = self.raw(key)
        if raw is None:
            log.error("text %s is missing from the catalogues", key)
            return key
        try:
            return raw.format_map(params) if params or "{" in raw else raw
        except (KeyError, IndexError, ValueError):
            log.error(
                "text %s (%s) could not be filled with %s", key, self.language, sorted(params)
            )
            return raw

    def counted(self, key: str, count: int, /, **params: object) -> str:
        category = Locale.parse(self.language).plural_form(abs(count))
        chosen = f"{key}.{category}"
        if self.raw(chosen) is None:
            chosen = f"{key}.other"
        return self.text(chosen, count=self.number(count), **params)

    def number(self, value: int | float | Decimal) -> str:
        return format_number(value, self.language)


def format_number(value: int | float | Decimal, language: str) -> str:
    """A number for ``language``: ``1234``, ``12 345,5`` in Norwegian, ``12,345.5`` in English.

    Numbers below 10 000 are not grouped (Norwegian typography: ``1234``, not ``1 234``);
    the group separator is a plain space so a figure reads the same in every chat app.
    """
    if isinstance(value, bool):
        raise TypeError("a yes/no is not a number")
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    grouped = abs(exact) >= 10_000
    text = format_decimal(
        exact, locale=language, group_separator=grouped, decimal_quantization=False
    )
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")


_active: ContextVar[CatalogueTexts | None] = ContextVar("lyttepost_texts", default=None)


@cache
def texts_for(language: str) -> CatalogueTexts:
    """The texts of ``language`` (an unknown code gets bokmål), loaded once per process."""
    from dialogs.catalogues import load_catalogue  # the files, read once

    if not is_language(language):
        log.warning("language %r is not known; using bokmål", language)
        language = SOURCE
    source = load_catalogue(SOURCE)
    if language == SOURCE:
        return CatalogueTexts(SOURCE, source)
    return CatalogueTexts(language, load_catalogue(language), fallback=source)


def reload() -> None:
    """Read the catalogues again on next use, e.g. after ``lyttepost texts import``.

    Only this process: others read the new texts when they restart. A turn already
    speaking keeps the texts it started with.
    """
    from dialogs.catalogues import load_catalogue

    load_catalogue.cache_clear()
    texts_for.cache_clear()


def active() -> CatalogueTexts:
    """The texts of the language being spoken now (bokmål when nobody chose one)."""
    return _active.get() or texts_for(SOURCE)


def language() -> str:
    """The code of the language being spoken now."""
    return active().language


@contextmanager
def speaking(language: str | None) -> Iterator[CatalogueTexts]:
    """Speak ``language`` (None: bokmål) in this block, and what it calls."""
    texts = texts_for(language or SOURCE)
    token = _active.set(texts)
    try:
        yield texts
    finally:
        _active.reset(token)


def t(key: str, /, **params: object) -> str:
    """The text of ``key`` in the active language, its ``{placeholders}`` filled."""
    return active().text(key, **params)


def tn(key: str, count: int, /, **params: object) -> str:
    """A counted text: the plural form of ``key`` for ``count`` (``{count}`` is filled)."""
    return active().counted(key, count, **params)


def number(value: int | float | Decimal) -> str:
    """A number as the active language writes it."""
    return active().number(value)


def date_text(moment: date | datetime, *, with_time: bool = False) -> str:
    """A date (and time) as the active language writes it, after ``format.date``'s pattern.

    ``moment`` is already in the zone the reader lives in (``dialogs.dates`` converts).
    """
    texts = active()
    if with_time and isinstance(moment, datetime):
        return babel_datetime(moment, texts.text("format.datetime"), locale=texts.language)
    return babel_date(moment, texts.text("format.date"), locale=texts.language)
