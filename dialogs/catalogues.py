"""Reading the message catalogues: ``dialogs/locale/<language>/LC_MESSAGES/<domain>.po``.

The catalogues are gettext ``.po`` files read with Babel, so translators can use the
tools they know (Poedit, Weblate, a spreadsheet through ``lyttepost texts export``).
The ``msgid`` is a key that says what the text is (``survey.button.back``), the
``msgstr`` the text; an extracted comment (``#.``) tells the translator where it shows,
and the ``fuzzy`` flag marks a translation that awaits a native speaker's review.
Domains split the catalogue by area so it stays readable; a key is unique across them.

An *override directory* (``TEXTS_DIR``, set by the process at start with
``use_override_dir``) holds texts imported in production (``lyttepost texts import``, the
workspace's «Tekster og språk»). Its ``.po`` files have the same layout and are layered
over the packaged ones key by key: an upgrade's corrected texts still show for every key
KS did not change. ``write_catalogue`` writes a file back with Babel, keeping the header,
comments, flags and key order as they were, so a diff shows only what changed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
# Long enough that Babel never wraps a line: the catalogues keep one line per comment and
# per text, as they are written by hand, so a changed text is a one-line diff.
NO_WRAP = 1_000_000

_override: Path | None = None


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


def catalogue_files(language: str, root: Path | None = None) -> list[Path]:
    """The ``.po`` files of ``language`` under ``root`` (None: the packaged ones), by domain."""
    return sorted(((root or LOCALE_DIR) / language / "LC_MESSAGES").glob("*.po"))


def read_catalogue_file(path: Path, language: str) -> Catalog:
    """One ``.po`` file, or a ``CatalogueError`` that names it."""
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=language, abort_invalid=True)
    except Exception as error:  # Babel raises several kinds on a broken file
        raise CatalogueError(f"{path}: cannot be read as a .po file: {error}") from error


def entries(language: str, root: Path | None = None) -> dict[str, Entry]:
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


def use_override_dir(path: Path | None) -> None:
    """Layer the ``.po`` files under ``path`` over the packaged ones (None: packaged only).

    Loaded texts are cached: call ``dialogs.i18n.reload()`` afterwards.
    """
    global _override
    _override = path


def override_dir() -> Path | None:
    """The override directory in use, if any."""
    return _override


def layered_entries(language: str) -> dict[str, Entry]:
    """Every text of ``language`` as the process uses it: the packaged catalogue, with
    the override directory's texts (and review flags) in place of the packaged ones.

    A broken override file is logged and skipped, so a bad import cannot silence the bot;
    ``lyttepost texts import`` never writes one (it validates, then writes atomically).
    """
    found = entries(language)
    if _override is None:
        return found
    try:
        extra = entries(language, _override)
    except CatalogueError as error:
        log.error("the override texts in %s are not used: %s", _override, error)
        return found
    for key, entry in extra.items():
        packaged = found.get(key)
        comment = entry.comment or (packaged.comment if packaged else "")
        found[key] = replace(entry, comment=comment)
    return found


@cache
def load_catalogue(language: str) -> dict[str, str]:
    """``key → text`` for ``language``, read once per process (``i18n.reload`` rereads)."""
    return {key: entry.text for key, entry in layered_entries(language).items()}


@dataclass(frozen=True)
class Change:
    """A text to write: the new text and whether it awaits a translator's review."""

    text: str
    needs_review: bool


def header_text(raw: str) -> str:
    """A file's header block as written: everything up to the first blank line after the
    ``msgid ""`` entry, so writing the file back never touches it."""
    lines = raw.splitlines(keepends=True)
    seen_header = False
    for index, line in enumerate(lines):
        if line.startswith('msgid ""'):
            seen_header = True
        elif seen_header and not line.strip():
            return "".join(lines[: index + 1])
    return raw.rstrip("\n") + "\n\n" if seen_header else ""


def new_header(template: str, language: str, domain: str) -> str:
    """The header of a catalogue file that does not exist yet, after the source's: the
    same fields with this language's name and plural rule."""
    catalog = Catalog(locale=language)
    lines = [f"# Lyttepost: {domain} ({language}).\n"]
    for line in header_text(template).splitlines(keepends=True):
        if line.startswith("#"):
            continue
        if line.startswith('"Language:'):
            line = f'"Language: {language}\\n"\n'
        elif line.startswith('"Plural-Forms:'):
            line = f'"Plural-Forms: {catalog.plural_forms}\\n"\n'
        lines.append(line)
    return "".join(lines)


def render_catalogue(
    raw: str | None,
    language: str,
    changes: Mapping[str, Change],
    *,
    order: Iterable[str] = (),
    header: str = "",
) -> str:
    """A ``.po`` file's text with ``changes`` applied, written by Babel's ``write_po``.

    ``raw``: the file as it is (None: a new file, with ``header``). Every other entry
    keeps its comments, flags, position and obsolete entries; keys new to the file are
    placed in ``order`` (the source's key order), or last. ``Change(text="")`` removes a
    key (the override directory drops a text that equals the packaged one again).
    """
    if raw is None:
        catalog = Catalog(locale=language)
        head = header
    else:
        catalog = read_po(io.BytesIO(raw.encode("utf-8")), locale=language, abort_invalid=True)
        head = header_text(raw)
    messages: dict[str, Message] = {
        message.id: message for message in catalog if message.id and isinstance(message.id, str)
    }
    plural_entries = [m for m in catalog if m.id and not isinstance(m.id, str)]
    added = False
    for key, change in changes.items():
        if not change.text:
            messages.pop(key, None)
            continue
        message = messages.get(key)
        if message is None:
            message = Message(key, change.text)
            messages[key] = message
            added = True
        message.string = change.text
        if change.needs_review:
            message.flags.add("fuzzy")
        else:
            message.flags.discard("fuzzy")
    keys = list(messages)
    if added:
        position = {key: index for index, key in enumerate(order)}
        known = sorted((k for k in keys if k in position), key=position.__getitem__)
        keys = known + [k for k in keys if k not in position]
    written = Catalog(locale=language, charset="utf-8")
    for key in keys:
        written[key] = messages[key]
    for message in plural_entries:
        written[message.id] = message
    written.obsolete = catalog.obsolete
    buffer = io.BytesIO()
    write_po(buffer, written, width=NO_WRAP, omit_header=True)
    body = buffer.getvalue().decode("utf-8").rstrip("\n")
    return head + (body + "\n" if body else "")
