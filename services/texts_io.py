"""The translation round trip: every catalogue text out to a spreadsheet for a translator,
and the translated spreadsheet back into the catalogues, validated all or nothing.

``lyttepost texts export/import`` and the workspace's «Tekster og språk» both use this.
One sheet, one row per text: key, context (the bokmål file's ``#.`` comment), the
bokmål source, the language's text, whether it needs review (the ``fuzzy`` flag) and the
placeholders the text must keep. Counted texts have one row per plural form the
language has (nordsamisk's ``….two`` too), with bokmål's ``….other`` as the source.

An import writes the language's ``.po`` files: the packaged ``dialogs/locale`` (a
developer imports the translator's file and commits the diff), or the override directory
``TEXTS_DIR`` (production), which holds only the texts that differ from the packaged ones.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogs import catalogues, i18n
from dialogs.catalogues import (
    Change,
    Entry,
    catalogue_files,
    entries,
    header_text,
    layered_entries,
    new_header,
    render_catalogue,
)
from dialogs.i18n import LANGUAGES, SOURCE, placeholders, plural_categories
from reports.cells import put

TRANSLATED = tuple(language for language in LANGUAGES if language != SOURCE)
LANGUAGE_NAMES = {"nb": "bokmål", "nn": "nynorsk", "se": "nordsamisk", "en": "English"}
PLURAL = re.compile(r"^(?P<family>.+)\.(?P<category>zero|one|two|few|many|other)$")
YES = frozenset({"yes", "ja", "juo", "y", "j"})
NO = frozenset({"no", "nei", "ii", "n"})
MAX_ROWS = 20_000  # far more than the catalogues hold; a bigger sheet is not ours
SHEET = "Texts"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESTART_NOTE = (
    "Lyttepost processes already running read the new texts when they restart "
    "(the workspace's own process uses them at once)."
)

KEY, CONTEXT, REVIEW, PLACEHOLDERS = "key", "context", "needs review", "placeholders"
WIDTHS = (44, 48, 60, 60, 14, 22)
_LANGUAGE_HEADER = re.compile(r"\(([A-Za-z]{2,3})\)\s*$")


def language_header(language: str) -> str:
    """The header of a language's column, e.g. ``nynorsk (nn)``: readable, and the code
    in brackets says which language the file holds."""
    return f"{LANGUAGE_NAMES.get(language, language)} ({language})"


def headers(language: str) -> tuple[str, ...]:
    return (KEY, CONTEXT, language_header(SOURCE), language_header(language), REVIEW, PLACEHOLDERS)


@dataclass(frozen=True)
class Row:
    """One text as the translator sees it."""

    key: str
    domain: str
    context: str
    source: str
    text: str  # the language's current text ("" when it is missing)
    needs_review: bool
    placeholders: tuple[str, ...]


def _family(key: str) -> str | None:
    match = PLURAL.match(key)
    return match["family"] if match else None


def rows(language: str) -> list[Row]:
    """Every text ``language`` must have, in the bokmål catalogue's order, with the texts
    as this process uses them (override directory included)."""
    source = layered_entries(SOURCE)
    current = layered_entries(language) if language != SOURCE else source
    categories = plural_categories(language)
    found: list[Row] = []
    done: set[str] = set()
    for key, entry in source.items():
        family = _family(key)
        if family is None:
            found.append(_row(key, entry, entry.comment, entry.text, current))
            continue
        if family in done:
            continue
        done.add(family)
        members = [e for k, e in source.items() if _family(k) == family]
        context = next((e.comment for e in members if e.comment), "")
        fallback = source.get(f"{family}.other", entry)
        for category in categories:
            own = source.get(f"{family}.{category}", fallback)
            found.append(_row(f"{family}.{category}", own, context, own.text, current))
    return found


def _row(key: str, source: Entry, context: str, text: str, current: dict[str, Entry]) -> Row:
    mine = current.get(key)
    return Row(
        key=key,
        domain=source.domain,
        context=context,
        source=text,
        text=mine.text if mine else "",
        needs_review=mine.needs_review if mine else True,
        placeholders=tuple(sorted(placeholders(text))),
    )


@dataclass(frozen=True)
class LanguageStatus:
    """How far a language's catalogue is: for the workspace and ``lyttepost texts status``."""

    language: str
    name: str
    texts: int
    needs_review: int
    missing: int


def status() -> list[LanguageStatus]:
    """Per translated language: texts, how many await review, how many are missing."""
    result = []
    for language in TRANSLATED:
        found = rows(language)
        result.append(
            LanguageStatus(
                language=language,
                name=LANGUAGE_NAMES[language],
                texts=len(found),
                needs_review=sum(1 for r in found if r.text and r.needs_review),
                missing=sum(1 for r in found if not r.text),
            )
        )
    return result


# --- export ---------------------------------------------------------------------------------


def export_workbook(language: str) -> bytes:
    """The spreadsheet for a translator of ``language``; every text cell stays text."""
    if language not in TRANSLATED:
        raise ValueError(f"--lang must be one of {', '.join(TRANSLATED)}, not {language!r}")
    # openpyxl (with NumPy) loads when a translator asks, not when the workspace starts.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for column, name in enumerate(headers(language), start=1):
        put(sheet, 1, column, name).font = bold
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS[column - 1]
    sheet.freeze_panes = "A2"
    for number, row in enumerate(rows(language), start=2):
        values = (
            row.key,
            row.context,
            row.source,
            row.text,
            "yes" if row.needs_review else "no",
            " ".join(f"{{{name}}}" for name in row.placeholders),
        )
        for column, value in enumerate(values, start=1):
            put(sheet, number, column, value).alignment = wrap
    last = sheet.max_row
    if last >= 2:
        choice = DataValidation(type="list", formula1='"yes,no"', allow_blank=False)
        choice.add(f"E2:E{last}")
        sheet.add_data_validation(choice)
    sheet.auto_filter.ref = f"A1:F{last}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an imported file, with its spreadsheet row (1: the header)."""

    row: int | None
    message: str  # English, as the CLI prints it
    norsk: str = ""  # the same in bokmål, for the workspace (KS staff read Norwegian there)

    def __str__(self) -> str:
        return f"row {self.row}, {self.message}" if self.row is not None else self.message

    def in_norwegian(self) -> str:
        """The problem as the workspace shows it: «rad 12: …»."""
        text = self.norsk or self.message
        return f"rad {self.row}: {text}" if self.row is not None else text


class TextsImportError(ValueError):
    """The file was refused: nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ImportResult:
    """What an import wrote."""

    language: str
    directory: Path
    rows: int
    changed: list[str] = field(default_factory=list)  # keys whose text changed
    reviewed: list[str] = field(default_factory=list)  # keys whose review flag was cleared
    flagged: list[str] = field(default_factory=list)  # keys now marked as needing review
    files: list[Path] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.rows - len(set(self.changed) | set(self.reviewed) | set(self.flagged))

    def summary(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "directory": str(self.directory),
            "rows": self.rows,
            "changed": self.changed,
            "reviewed": self.reviewed,
            "flagged": self.flagged,
            "unchanged": self.unchanged,
            "files": [str(path) for path in self.files],
        }


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def _sheet_rows(data: bytes) -> Iterator[tuple[int, list[Any], list[str]]]:
    """``(row number, values, cell types)`` of the workbook's first sheet."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise TextsImportError([_not_xlsx(error)]) from None
    except Exception as error:  # openpyxl's InvalidFileException and parse errors
        raise TextsImportError([_not_xlsx(error)]) from None
    try:
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values = [cell.value for cell in cells]
            kinds = [getattr(cell, "data_type", "s") for cell in cells]
            yield number, values, kinds
    finally:
        book.close()


def _not_xlsx(error: Exception) -> Problem:
    return Problem(
        None,
        f"the file is not an .xlsx workbook ({type(error).__name__})",
        f"filen er ikke et Excel-regneark (.xlsx) ({type(error).__name__})",
    )


def _columns(header: list[Any], wanted_language: str | None) -> tuple[dict[str, int], str]:
    """Where each column is, by its header, and the file's language."""
    names = [_cell_text(value).strip() for value in header]
    found: dict[str, int] = {}
    problems: list[Problem] = []
    languages: list[tuple[str, int]] = []
    for index, name in enumerate(names):
        lowered = name.lower()
        if lowered in (KEY, CONTEXT, REVIEW, PLACEHOLDERS):
            found.setdefault(lowered, index)
            continue
        match = _LANGUAGE_HEADER.search(name)
        if match and match[1].lower() != SOURCE:
            languages.append((match[1].lower(), index))
    missing = [name for name in (KEY, REVIEW) if name not in found]
    if not languages:
        missing.insert(1, "the language's texts, e.g. «nynorsk (nn)»")
    if missing:
        problems.append(
            Problem(
                1,
                f"missing column(s): {', '.join(missing)}",
                "mangler kolonne(r): "
                + ", ".join(
                    m if m in found or m in (KEY, REVIEW) else "språkets tekster" for m in missing
                ),
            )
        )
    if len(languages) > 1:
        problems.append(
            Problem(
                1,
                "more than one language column: " + ", ".join(c for c, _ in languages),
                "mer enn én språkkolonne: " + ", ".join(c for c, _ in languages),
            )
        )
    language = languages[0][0] if languages else ""
    if languages and language not in TRANSLATED:
        problems.append(
            Problem(
                1,
                f"language {language!r} is not one Lyttepost translates to "
                f"({', '.join(TRANSLATED)})",
                f"Lyttepost oversetter ikke til «{language}» (bare {', '.join(TRANSLATED)})",
            )
        )
    elif languages and wanted_language and language != wanted_language:
        problems.append(
            Problem(
                1,
                f"the file holds {language} texts, not {wanted_language}",
                f"filen har tekster på {language}, ikke {wanted_language}",
            )
        )
    if problems:
        raise TextsImportError(problems)
    found["text"] = languages[0][1]
    return found, language


def _expected_placeholders(key: str, expected: Row) -> tuple[frozenset[str], bool]:
    return frozenset(expected.placeholders), _family(key) is not None


def read_import(data: bytes, language: str | None = None) -> tuple[str, dict[str, Change], int]:
    """The file's language, its texts by key, and how many rows it had; every problem
    at once in a ``TextsImportError``."""
    lines = _sheet_rows(data)
    first = next(lines, None)
    if first is None:
        raise TextsImportError(
            [Problem(None, "the workbook's first sheet is empty", "det første arket er tomt")]
        )
    columns, language = _columns(first[1], language)
    expected = {row.key: row for row in rows(language)}
    problems: list[Problem] = []
    changes: dict[str, Change] = {}
    seen: dict[str, int] = {}
    count = 0
    for number, values, kinds in lines:
        if number > MAX_ROWS:
            problems.append(
                Problem(
                    number,
                    f"too many rows (at most {MAX_ROWS})",
                    f"for mange rader (høyst {MAX_ROWS})",
                )
            )
            break

        def value(name: str, values: list[Any] = values) -> str:
            index = columns[name]
            return _cell_text(values[index]) if index < len(values) else ""

        key = value(KEY).strip()
        text = value("text")
        review = value(REVIEW).strip().lower()
        if not key and not text.strip() and not review:
            continue  # an empty row
        count += 1
        if not key:
            problems.append(Problem(number, "no key", "nøkkelen mangler"))
            continue
        if key not in expected:
            problems.append(Problem(number, f"unknown key {key}", f"ukjent nøkkel {key}"))
            continue
        if key in seen:
            problems.append(
                Problem(
                    number,
                    f"{key} is also in row {seen[key]}",
                    f"{key} står også i rad {seen[key]}",
                )
            )
            continue
        seen[key] = number
        index = columns["text"]
        if index < len(kinds) and kinds[index] == "f":
            problems.append(
                Problem(
                    number,
                    f"{key}: the text is a formula; write it as text",
                    f"{key}: teksten er en formel; skriv den som tekst",
                )
            )
            continue
        if not text.strip():
            problems.append(Problem(number, f"{key}: empty text", f"{key}: teksten er tom"))
            continue
        if review in YES:
            needs_review = True
        elif review in NO:
            needs_review = False
        else:
            problems.append(
                Problem(
                    number,
                    f"{key}: needs review must be yes or no",
                    f"{key}: «needs review» må være yes eller no",
                )
            )
            continue
        try:
            found = placeholders(text)
        except ValueError:
            problems.append(
                Problem(
                    number,
                    f"{key}: the braces do not pair; a placeholder is {{name}}, "
                    "a literal brace is written {{ or }}",
                    f"{key}: klammene går ikke opp; en plassholder skrives {{navn}}, "
                    "en klamme som skal stå i teksten, {{ eller }}",
                )
            )
            continue
        wanted, counted = _expected_placeholders(key, expected[key])
        if counted:  # "ett alternativ" may leave the count out
            found, wanted = found - {"count"}, wanted - {"count"}
        if found != wanted:
            problems.append(
                Problem(
                    number,
                    f"{key}: placeholders {_braced(found)} differ from bokmål's {_braced(wanted)}",
                    f"{key}: plassholderne {_braced(found)} er ikke de samme som i bokmål, "
                    f"{_braced(wanted)}",
                )
            )
            continue
        changes[key] = Change(text, needs_review)
    if problems:
        raise TextsImportError(problems)
    return language, changes, count


def _braced(names: frozenset[str]) -> str:
    return " ".join(f"{{{name}}}" for name in sorted(names)) or "(none)"


def import_texts(
    data: bytes, *, directory: Path | None = None, language: str | None = None
) -> ImportResult:
    """Validate the whole file, then write the language's catalogue files.

    ``directory`` None: the packaged catalogues; else the override directory
    (``TEXTS_DIR``). ``language``: refuse a file of another language. Afterwards this
    process uses the new texts (``i18n.reload``); other processes at their restart.
    """
    language, wanted, count = read_import(data, language)
    target = directory if directory is not None else catalogues.LOCALE_DIR
    # What the target holds now: the packaged files, or those with the override over them.
    current = entries(language) if directory is None else layered_entries(language)
    expected = {row.key: row for row in rows(language)}
    result = ImportResult(language=language, directory=target, rows=count)
    differing: dict[str, Change] = {}
    for key, change in wanted.items():
        now = current.get(key)
        if now is not None and now.text == change.text and now.needs_review == change.needs_review:
            continue
        differing[key] = change
        if now is None or now.text != change.text:
            result.changed.append(key)
        elif now.needs_review and not change.needs_review:
            result.reviewed.append(key)
        else:
            result.flagged.append(key)
    if differing:
        result.files = _write(language, differing, target, directory is None, expected)
    i18n.reload()
    return result


def _write(
    language: str,
    changes: dict[str, Change],
    target: Path,
    packaged: bool,
    expected: dict[str, Row],
) -> list[Path]:
    """Write each touched domain file of ``language`` under ``target``."""
    shipped = entries(language)
    placed = {} if packaged else entries(language, target)
    by_domain: dict[str, dict[str, Change]] = {}
    for key, change in changes.items():
        owner = placed.get(key) or shipped.get(key)
        domain = owner.domain if owner else expected[key].domain
        if not packaged:
            ship = shipped.get(key)
            if ship and ship.text == change.text and ship.needs_review == change.needs_review:
                change = Change("", False)  # back to the packaged text: drop the override
        by_domain.setdefault(domain, {})[key] = change
    order = list(expected)
    written: list[Path] = []
    source_files = {path.stem: path for path in catalogue_files(SOURCE)}
    shipped_files = {path.stem: path for path in catalogue_files(language)}
    contents: list[tuple[Path, str]] = []
    for domain, domain_changes in sorted(by_domain.items()):
        path = target / language / "LC_MESSAGES" / f"{domain}.po"
        raw = path.read_text(encoding="utf-8") if path.exists() else None
        template = shipped_files.get(domain) or source_files.get(domain)
        header = ""
        if raw is None and template is not None:
            header_source = template.read_text(encoding="utf-8")
            own = template.parent.parent.name == language
            header = (
                header_text(header_source) if own else new_header(header_source, language, domain)
            )
        text = render_catalogue(raw, language, domain_changes, order=order, header=header)
        if text != raw:
            contents.append((path, text))
    for path, text in contents:  # everything rendered before anything is written
        write_atomically(path, text)
        written.append(path)
    return written


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so another process never reads half a catalogue."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
