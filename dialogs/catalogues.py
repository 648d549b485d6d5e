"""Reading the message catalogues: ``dialogs/locale/<language>/LC_MESSAGES/<domain>.po``.

The catalogues are gettext ``.po`` files read with Babel, so translators can use the
tools they know (Poedit, Weblate, a spreadsheet through ``lyttepost texts export``).
The ``msgid`` is a key that says what the text is (``survey.button.back``), the
``msgstr`` the text; an extracted comment (``#.``) tells the translator where it shows,
and the ``fuzzy`` flag marks a translation that awaits a native speaker's review.
Domains split the catalogue by area so it stays readable; a key is unique across them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"


class CatalogueError(ValueError):
    """A catalogue file that cannot be used, naming the file and the key."""


@dataclass(frozen=True)
class Entry:
    """One text of one language, with what a translator needs to know about it."""

    key: str
    text: str
    domain: str
    comment: str  # where the text shows, from the source catalogue's ``#.`` lines
    needs_review: bool  # the ``fuzzy`` flag
    line: int


def catalogue_files(language: str, root: Path = LOCALE_DIR) -> list[Path]:
    """The ``.po`` files of ``language``, by domain name."""
    return sorted((root / language / "LC_MESSAGES").glob("*.po"))


def read_catalogue_file(path: Path, language: str) -> Catalog:
    """One ``.po`` file, or a ``CatalogueError`` that names it."""
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=language, abort_invalid=True)
    except Exception as error:  # Babel raises several kinds on a broken file
        raise CatalogueError(f"{path}: cannot be read as a .po file: {error}") from error


def entries(language: str, root: Path = LOCALE_DIR) -> dict[str, Entry]:
    """Every text of ``language`` by key; a key defined twice is a ``CatalogueError``."""
    found: dict[str, Entry] = {}
    for path in catalogue_files(language, root):
        for message in read_catalogue_file(path, language):
            if not message.id or not isinstance(message.id, str):
                continue  # the header, or a gettext plural entry (we use keys per category)
            text = message.string if isinstance(message.string, str) else ""
            if not text:
                continue  # untranslated: the completeness test reports it
            if message.id in found:
                first = found[message.id]
                raise CatalogueError(
                    f"{path}:{message.lineno}: key {message.id} is also in "
                    f"{first.domain}.po line {first.line}"
                )
            found[message.id] = Entry(
                key=message.id,
                text=text,
                domain=path.stem,
                comment=" ".join(message.auto_comments).strip(),
                needs_review=message.fuzzy,
                line=message.lineno or 0,
            )
    return found


@cache
def load_catalogue(language: str) -> dict[str, str]:
    """``key → text`` for ``language``, read once per process."""
    return {key: entry.text for key, entry in entries(language).items()}
