"""Surveys as XLSForm workbooks: the spreadsheet layout KoBo and ODK users write in Excel.

Reading takes a workbook's bytes and gives the same data a YAML survey file holds
(follow-ups still nested), compiled by the same compiler (``dialogs/definition.py``), so
both formats obey one set of rules; every problem names sheet, row and column. The data
is also written out as YAML: that text is what the database keeps, so the catalogue reads
every version the same way. Writing gives the rows of the three sheets for any survey;
``reports/xlsform.py`` puts them in a workbook. ``docs/survey-xlsform.md`` documents the
mapping; what XLSForm has no column for lives in ``lyttepost::`` columns.

Pure: bytes in, data out (openpyxl reads from memory; no file, no network).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import yaml

from dialogs.definition import (
    QuestionSpec,
    SurveyDefinitionError,
    SurveyProblem,
    SurveySource,
    TextValue,
    compile_survey_data,
    source_text,
    text_translations,
)
from dialogs.i18n import LANGUAGES, SOURCE
from dialogs.model import Condition
from dialogs.yamlsource import Path_

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
SHEET_ORDER = (SETTINGS, SURVEY, CHOICES)
PREFIX = "lyttepost::"
SURVEY_COLUMNS = (
    "type", "name", "label", "hint", "required", "relevant", "constraint", "parameters",
    "repeat_count", "lyttepost::followups", "lyttepost::short_label", "lyttepost::type",
    "lyttepost::scale_min_label", "lyttepost::scale_max_label", "lyttepost::unit",
    "lyttepost::consent_to_name", "choice_filter", "lyttepost::rank_count",
    "lyttepost::if_skipped",
)  # fmt: skip
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = (
    "form_id", "version", "form_title", "default_language", "lyttepost::intro",
    "lyttepost::receipt", "lyttepost::needs_review",
)  # fmt: skip
# Columns holding texts members read: each may have a column per language beside it,
# ``label::nn`` or ``label::Norsk nynorsk (nn)`` (XLSForm's ``column::language``).
TEXT_COLUMNS = {
    SURVEY: (
        "label", "hint", "lyttepost::short_label", "lyttepost::scale_min_label",
        "lyttepost::scale_max_label", "lyttepost::unit",
    ),
    CHOICES: ("label",),
    SETTINGS: ("form_title", "lyttepost::intro", "lyttepost::receipt"),
}  # fmt: skip
LANGUAGE_NAMES = {
    "nb": "Norsk bokmål", "nn": "Norsk nynorsk", "se": "Davvisámegiella", "en": "English",
}  # fmt: skip
# Language names written without a code, as KoBo users and translators write them.
_NAMED_LANGUAGES = {
    "norsk": "nb", "bokmål": "nb", "bokmal": "nb", "norsk bokmål": "nb", "norwegian": "nb",
    "nynorsk": "nn", "norsk nynorsk": "nn", "english": "en", "engelsk": "en",
    "samisk": "se", "nordsamisk": "se", "sámegiella": "se", "davvisámegiella": "se",
    "northern sami": "se", "northern sámi": "se",
}  # fmt: skip
# XLSForm columns whose meaning Lyttepost cannot honour: a value there is an error, not
# something silently dropped. Other unknown columns (appearance, media, ...) are about
# presentation in ODK's apps and are ignored.
UNSUPPORTED_COLUMNS = {"calculation", "choice_filter", "default", "read_only", "trigger"}
YESNO_LIST = "ja_nei"
YES, NO = "ja", "nei"
MAX_ROWS = 5000  # filled rows per sheet: a survey has dozens
MAX_SCANNED_ROWS = 100_000  # empty ones included: bounds a hostile file's cost
TYPE_NAMES = (
    "text, integer, decimal, range, select_one LIST, select_multiple LIST, rank LIST, "
    "begin group/end group, begin repeat/end repeat"
)
# Well-known XLSForm types, to say "not supported" rather than "unknown".
KNOWN_UNSUPPORTED_TYPES = {
    "note", "date", "time", "datetime", "geopoint", "geotrace", "geoshape", "image",
    "audio", "video", "file", "barcode", "calculate", "hidden", "acknowledge",
    "start", "end", "today", "deviceid", "username", "email", "phonenumber", "audit",
    "background-audio", "xml-external", "csv-external", "trigger", "select_one_from_file",
    "select_multiple_from_file",
}  # fmt: skip
# A ranking of what was chosen in an earlier select_multiple: the one choice_filter read.
RANK_FILTER = re.compile(r"selected\(\s*\$\{([a-z][a-z0-9_]*)\}\s*,\s*name\s*\)")


class XlsformUnsupported(ValueError):
    """A survey that has no faithful XLSForm form (a matrix question): keep it as YAML."""


# --- cells --------------------------------------------------------------------------------


def _number_text(value: float) -> str:
    """``3`` for 3 and 3.0, ``2.5`` for 2.5: how numbers read in cells and expressions."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _text(value: Any) -> str | None:
    """A cell as text exactly as written (labels keep their spaces and line breaks);
    None for a blank cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number_text(value)
    text = str(value)
    return text if text.strip() else None


def _word(value: Any) -> str | None:
    """A cell holding a name or keyword: trimmed, inner runs of spaces made one."""
    text = _text(value)
    return " ".join(text.split()) if text is not None else None


@dataclass
class _Sheet:
    """One sheet's rows with their numbers, read once; columns by their normalised heading."""

    name: str
    headings: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (index, as written)
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    # text column -> language -> the key of its column in that language (``label::nn``)
    languages: dict[str, dict[str, str]] = field(default_factory=dict)

    def heading(self, key: str) -> str:
        """The column's heading as the author wrote it (the key when it is absent)."""
        return self.headings[key][1] if key in self.headings else key

    def get(self, values: tuple[Any, ...], key: str) -> Any:
        if key not in self.headings:
            return None
        index = self.headings[key][0]
        return values[index] if index < len(values) else None


def _heading_key(heading: str) -> str:
    key = " ".join(heading.split()).lower()
    return {"list name": "list_name"}.get(key, key)


class _Workbook:
    """The sheets of an XLSForm workbook, keyed by lower-case name."""

    def __init__(self, data: bytes, source: str, problems: list[SurveyProblem]) -> None:
        self.sheets: dict[str, _Sheet] = {}
        self.source = source
        self.problems = problems
        # openpyxl (with NumPy) loads when a workbook is first read, not when the bot starts.
        from openpyxl import load_workbook

        with warnings.catch_warnings():  # openpyxl warns about Excel features it drops
            warnings.simplefilter("ignore")
            try:
                book = load_workbook(BytesIO(data), read_only=True, data_only=True)
            except Exception:  # openpyxl raises many kinds (zip, XML, key) for a non-workbook
                raise SurveyDefinitionError(
                    [
                        SurveyProblem(
                            source, None, "", "not an Excel workbook (.xlsx); save it as .xlsx"
                        )
                    ]
                ) from None
            try:
                for worksheet in book.worksheets:
                    self._read(worksheet.title, worksheet.iter_rows(values_only=True))
            except SurveyDefinitionError:
                raise
            except Exception:  # a damaged sheet inside a readable zip
                raise SurveyDefinitionError(
                    [SurveyProblem(source, None, "", "the workbook is damaged; save it again")]
                ) from None
            finally:
                book.close()

    def _read(self, title: str, rows: Iterator[tuple[Any, ...]]) -> None:
        key = title.strip().lower()
        if key not in (SURVEY, CHOICES, SETTINGS) or key in self.sheets:
            return
        sheet = _Sheet(title)
        for number, values in enumerate(rows, start=1):
            if len(sheet.rows) > MAX_ROWS or number > MAX_SCANNED_ROWS:
                raise SurveyDefinitionError(
                    [SurveyProblem(self.source, None, "", f"more than {MAX_ROWS} rows", title)]
                )
            if number == 1:
                for index, cell in enumerate(values):
                    heading = _text(cell)
                    if heading is None:
                        continue
                    column = _heading_key(heading)
                    if column in sheet.headings:
                        self.problems.append(
                            SurveyProblem(
                                self.source, 1, heading.strip(), "the column appears twice", title
                            )
                        )
                        continue
                    sheet.headings[column] = (index, heading.strip())
            elif any(_text(cell) is not None for cell in values):
                sheet.rows.append((number, tuple(values)))
        self.sheets[key] = sheet
        self._languages(sheet, key)

    def _languages(self, sheet: _Sheet, key: str) -> None:
        """A text column per language: ``label`` (or ``label::nb``) is bokmål, the text
        every other language falls back to; ``label::nn``, ``label::Norsk nynorsk (nn)``
        the same text in nynorsk. A lone ``label::Norsk`` (KoBo's form) is the text."""
        for base in TEXT_COLUMNS[key]:
            variants = [k for k in sheet.headings if k.startswith(base + "::")]
            if not variants:
                continue
            coded: dict[str, str] = {}
            for variant in variants:
                code = language_code(variant.removeprefix(base + "::"))
                if code is None and len(variants) == 1 and base not in sheet.headings:
                    code = SOURCE  # the only text column, in a language Lyttepost cannot name
                if code is None or code not in LANGUAGES:
                    self.problems.append(
                        SurveyProblem(
                            self.source,
                            1,
                            sheet.heading(variant),
                            f"unknown language{f' {code!r}' if code else ''}; write "
                            f"{base}::nn or {base}::Norsk nynorsk (nn) (languages: "
                            f"{', '.join(LANGUAGES)})",
                            sheet.name,
                        )  # fmt: skip
                    )
                elif code in coded or (code == SOURCE and base in sheet.headings):
                    self.problems.append(
                        SurveyProblem(
                            self.source,
                            1,
                            sheet.heading(variant),
                            f"a second {base} column in {code}",
                            sheet.name,
                        )  # fmt: skip
                    )
                else:
                    coded[code] = variant
            if base not in sheet.headings and SOURCE in coded:
                sheet.headings[base] = sheet.headings[coded.pop(SOURCE)]
            sheet.languages[base] = coded


def language_code(text: str) -> str | None:
    """The code a column's language part names: ``nn``, ``Norsk nynorsk (nn)`` or
    ``Nynorsk``; None when it names none (an unknown code is returned, to be refused)."""
    words = " ".join(text.split()).lower()
    code = re.fullmatch(r".*\(\s*([a-z]{2,3}(?:[-_][a-z0-9]+)?)\s*\)", words)
    if code:
        return code.group(1)
    if re.fullmatch(r"[a-z]{2,3}", words):
        return words
    return _NAMED_LANGUAGES.get(words)


# --- expressions: relevant and constraint ------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{\s*(?P<name>[^}]*?)\s*\})
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>!=|>=|<=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<dot>\.)
    )""",
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """A relevant or constraint expression Lyttepost cannot read; the message says why."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    value: Any = None


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:].strip()[:20]!r}")
        kind = match.lastgroup or ""
        raw = match.group(kind).strip()
        if kind == "ref":
            tokens.append(_Token("ref", raw, match.group("name")))
        elif kind == "string":
            tokens.append(_Token("string", raw, raw[1:-1]))
        elif kind == "number":
            tokens.append(_Token("number", raw, float(raw) if "." in raw else int(raw)))
        elif kind == "word":
            tokens.append(_Token("word", raw.lower(), raw))
        else:
            tokens.append(_Token(kind if kind in ("op", "dot") else raw, raw))
        position = match.end()
    return tokens


class _Parser:
    """Reads the part of XPath that maps onto ``dialogs.model.Condition``::

        ${q} = 'a'   ${q} != 'a'   ${q} >= 3   ${q} <= 3   ${q} = ''   ${q} != ''
        selected(${q}, 'a')   selected('a b c', ${q})   not(...)   ... and ...   ... or ...

    ``types`` gives each question's type, so ``'ja'`` compares with a yes/no answer as
    true and ``'3'`` with a number as 3. Parentheses keep their grouping.
    """

    def __init__(self, text: str, types: Callable[[str], str | None]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.types = types

    def peek(self, kind: str, text: str | None = None) -> bool:
        if self.position >= len(self.tokens):
            return False
        token = self.tokens[self.position]
        return token.kind == kind and (text is None or token.text == text)

    def take(self, kind: str, text: str | None = None, what: str | None = None) -> _Token:
        if not self.peek(kind, text):
            found = (
                repr(self.tokens[self.position].text)
                if self.position < len(self.tokens)
                else "the end"
            )
            raise ExpressionError(f"expected {what or text or kind}, found {found}")
        self.position += 1
        return self.tokens[self.position - 1]

    def condition(self) -> dict[str, Any]:
        if not self.tokens:
            raise ExpressionError("the expression is empty")
        result = self.either()
        if self.position < len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position].text!r}")
        return result

    def either(self) -> dict[str, Any]:
        items = [self.both()]
        while self.peek("word", "or"):
            self.position += 1
            items.append(self.both())
        return items[0] if len(items) == 1 else {"any": items}

    def both(self) -> dict[str, Any]:
        items = [self.single()]
        while self.peek("word", "and"):
            self.position += 1
            items.append(self.single())
        return items[0] if len(items) == 1 else {"all": items}

    def single(self) -> dict[str, Any]:
        if self.peek("("):
            self.position += 1
            inner = self.either()
            self.take(")")
            return inner
        if self.peek("word", "not"):
            self.position += 1
            self.take("(")
            inner = self.either()
            self.take(")")
            return {"not": inner}
        if self.peek("word", "selected"):
            return self.selected()
        if self.peek("ref"):
            return self.comparison()
        raise ExpressionError(
            "expected ${question}, selected(...), not(...) or '(', found "
            + (repr(self.tokens[self.position].text) if self.position < len(self.tokens) else "the end")
        )  # fmt: skip

    def selected(self) -> dict[str, Any]:
        self.position += 1
        self.take("(")
        if self.peek("ref"):
            name = self.take("ref").value
            self.take(",")
            value = self.take("string", what="a quoted option name").value
            self.take(")")
            kind = self.types(name)
            if kind in ("single", "yesno"):
                return {"question": name, "equals": self.typed(value, kind)}
            return {"question": name, "includes": value}
        values = self.take("string", what="${question} or a quoted list").value.split()
        self.take(",")
        name = self.take("ref", what="${question}").value
        self.take(")")
        kind = self.types(name)
        return {"question": name, "one_of": [self.typed(v, kind) for v in values]}

    def comparison(self) -> dict[str, Any]:
        name = self.take("ref").value
        op = self.take("op", what="=, !=, >= or <=").text
        kind = self.types(name)
        if self.peek("string"):
            value: Any = self.take("string").value
            if value == "" and op in ("=", "!="):
                return {"question": name, "answered": op == "!="}
            value = self.typed(value, kind)
        elif self.peek("number"):
            number = self.take("number").value
            value = _number_text(number) if kind in ("single", "multi") else number
        elif self.peek("word", "true") or self.peek("word", "false"):
            value = self.take("word").text == "true"
            self.take("(")
            self.take(")")
        else:
            raise ExpressionError(f"compare ${{{name}}} with a 'quoted value' or a number")
        if op == "=":
            return {"question": name, "equals": value}
        if op == "!=":
            return {"not": {"question": name, "equals": value}}
        if op in ("<", ">"):
            raise ExpressionError(f"use >= or <= instead of {op} (conditions are at least/at most)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(f"{op} compares ${{{name}}} with a number")
        return {"question": name, "at_least" if op == ">=" else "at_most": value}

    @staticmethod
    def typed(value: str, kind: str | None) -> Any:
        """A quoted value as the answer it compares with."""
        if kind == "yesno" and value in (YES, NO):
            return value == YES
        if kind in ("scale", "number") and re.fullmatch(r"-?\d+(\.\d+)?", value):
            return float(value) if "." in value else int(value)
        return value


def parse_relevant(
    text: str, types: Callable[[str], str | None] = lambda _: None
) -> dict[str, Any]:
    """A ``relevant`` expression as a condition mapping (the YAML ``when:`` form)."""
    return _Parser(text, types).condition()


def _constraint(text: str) -> list[tuple[str, str, float]]:
    """``string-length(.) <= 800 and ...`` as (subject, operator, number) triples;
    subject is ``.``, ``string-length`` or ``count-selected``."""
    tokens = _tokens(text)
    parts: list[tuple[str, str, float]] = []
    position = 0

    def take(kind: str, text: str | None = None) -> _Token:
        nonlocal position
        if (
            position >= len(tokens)
            or tokens[position].kind != kind
            or (text is not None and tokens[position].text != text)
        ):
            raise ExpressionError(
                "Lyttepost reads constraints like '. >= 0 and . <= 100', "
                "'string-length(.) <= 800' or 'count-selected(.) <= 3'"
            )
        position += 1
        return tokens[position - 1]

    while True:
        if position < len(tokens) and tokens[position].kind == "word":
            subject = take("word").text
            if subject not in ("string-length", "count-selected"):
                take("dot")  # raises with the explanation
            take("(")
            take("dot")
            take(")")
        else:
            take("dot")
            subject = "."
        op = take("op").text
        if op not in (">=", "<="):
            raise ExpressionError(f"use >= or <= instead of {op}")
        parts.append((subject, op, take("number").value))
        if position == len(tokens):
            return parts
        take("word", "and")


# --- reading ----------------------------------------------------------------------------------


def load_xlsform(data: bytes, source_name: str) -> XlsformSurvey:
    """Read and compile an XLSForm workbook; ``SurveyDefinitionError`` lists every problem
    with its sheet, row and column (``source_name`` names the file)."""
    problems: list[SurveyProblem] = []
    book = _Workbook(data, source_name, problems)
    reader = _SurveyReader(book)
    survey_data = reader.read()
    try:
        if SURVEY not in book.sheets:
            raise SurveyDefinitionError(problems)
        compiled = compile_survey_data(
            survey_data, _SheetLocator(source_name, reader.cells), problems,
            reported=reader.placeholders, broken=reader.broken,
        )  # fmt: skip
    except SurveyDefinitionError as error:
        found = error.problems
        if SETTINGS not in book.sheets:  # said once, not once per setting
            found = [p for p in found if p.sheet != SETTINGS]
        raise SurveyDefinitionError(_in_order(found)) from None
    return XlsformSurvey(compiled, survey_yaml(survey_data))


_COLUMN_ORDER = {c: i for i, c in enumerate(dict.fromkeys((*SETTINGS_COLUMNS, *SURVEY_COLUMNS)))}


def _in_order(problems: list[SurveyProblem]) -> list[SurveyProblem]:
    """Each problem once, by sheet (settings, survey, choices), row and column."""

    def key(problem: SurveyProblem) -> tuple[int, int, int]:
        sheet = (problem.sheet or "").lower()
        return (
            SHEET_ORDER.index(sheet) + 1 if sheet in SHEET_ORDER else 0,
            problem.line or 0,
            _COLUMN_ORDER.get(problem.field.lower(), len(_COLUMN_ORDER)),
        )

    return sorted(dict.fromkeys(problems), key=key)


class _Dumper(yaml.SafeDumper):
    """Texts with line breaks as ``|`` blocks, as an author would write them."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def _ordered(data: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """The keys in the order an author would write them; follow-ups nested likewise."""
    result: dict[str, Any] = {}
    for key in (*order, *(k for k in data if k not in order)):
        if key not in data:
            continue
        value = data[key]
        if key in ("questions", "followups", "followups_each"):
            value = [_ordered(q, _QUESTION_ORDER) for q in value]
        elif key == "options":
            value = [_ordered(o, ("value", "label", "followups")) for o in value]
        result[key] = value
    return result


_QUESTION_ORDER = tuple(QuestionSpec.model_fields)


def survey_yaml(data: Mapping[str, Any]) -> str:
    """Survey data as a YAML survey file (what the database keeps for a workbook). Only the
    content counts: the same workbook under another name is the same version."""
    ordered = _ordered(data, ("key", "version", "language", "title", "intro", "receipt", "questions"))  # fmt: skip
    header = "# Converted by Lyttepost from an XLSForm workbook (docs/survey-xlsform.md)\n"
    return header + yaml.dump(
        ordered, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
    )


@dataclass(frozen=True)
class XlsformSurvey:
    """A workbook read and compiled, and the YAML text that stores it."""

    source: SurveySource
    definition: str


@dataclass(frozen=True)
class _Where:
    sheet: str
    row: int | None
    column: str


class _SheetLocator:
    """Maps paths of the survey's data to the cell they came from."""

    def __init__(self, source: str, cells: dict[Path_, _Where]) -> None:
        self.source = source
        self.cells = cells

    def problem(self, path: Path_, message: str) -> SurveyProblem:
        for end in range(len(path), -1, -1):
            where = self.cells.get(path[:end])
            if where is not None:
                return SurveyProblem(self.source, where.row, where.column, message, where.sheet)
        return SurveyProblem(self.source, None, "", message)


@dataclass
class _Frame:
    """An open ``begin group``/``begin repeat``: a plain group (its condition applies to
    every question inside), follow-ups of a question, or one whose rows are skipped."""

    kind: str  # "group" | "repeat"
    row: int
    role: str  # "plain" | "followups" | "skipped"
    condition: dict[str, Any] | None = None
    target: list[dict[str, Any]] | None = None
    path: Path_ = ()
    parent: dict[str, Any] | None = None  # the question followed up
    options: tuple[str, ...] = ()  # the option values the follow-ups are made for
    names: dict[str, str] = field(default_factory=dict)


class _SurveyReader:
    """Turns the three sheets into the data a YAML survey file holds, noting each cell."""

    def __init__(self, book: _Workbook) -> None:
        self.book = book
        self.source = book.source
        self.problems = book.problems
        self.cells: dict[Path_, _Where] = {}
        self.types: dict[str, str] = {}  # question name (and compiled id) -> type
        # list -> (row, name, label: a text per language)
        self.lists: dict[str, list[tuple[int, Any, TextValue | None]]] = {}
        # Questions whose rows could not be read (already reported): their place is kept,
        # and conditions naming them are not reported again.
        self.placeholders: set[int] = set()
        self.broken: set[str] = set()

    def problem(self, sheet: _Sheet, row: int | None, column: str, message: str) -> None:
        self.problems.append(
            SurveyProblem(self.source, row, sheet.heading(column), message, sheet.name)
        )

    def note(self, path: Path_, sheet: _Sheet, row: int | None, column: str) -> None:
        self.cells[path] = _Where(sheet.name, row, sheet.heading(column))
        for code, variant in sheet.languages.get(column, {}).items():
            self.cells[(*path, code)] = _Where(sheet.name, row, sheet.heading(variant))

    @staticmethod
    def text_cell(sheet: _Sheet, values: tuple[Any, ...], column: str) -> TextValue | None:
        """A text column's cell: plain bokmål, or a text per language when the row has
        any of the column's other languages (``label::nn``)."""
        source = _text(sheet.get(values, column))
        others: dict[str, str] = {
            code: text
            for code in LANGUAGES
            if code in sheet.languages.get(column, {})
            and (text := _text(sheet.get(values, sheet.languages[column][code]))) is not None
        }
        if not others:
            return source
        return {SOURCE: source, **others} if source is not None else others

    def read(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        settings = self.book.sheets.get(SETTINGS)
        if settings is None:
            for name in ("key", "version", "title", "language", "intro", "receipt"):
                self.cells[(name,)] = _Where(SETTINGS, None, name)
            self.problems.append(
                SurveyProblem(
                    self.source,
                    None,
                    "",
                    "the workbook has no sheet 'settings' (form_id, form_title, version, "
                    "lyttepost::intro, lyttepost::receipt)",
                )  # fmt: skip
            )
        else:
            data.update(self.settings(settings))
        choices = self.book.sheets.get(CHOICES)
        if choices is not None:
            self.choices(choices)
        survey = self.book.sheets.get(SURVEY)
        if survey is None:
            self.problems.append(
                SurveyProblem(self.source, None, "", "the workbook has no sheet 'survey'")
            )
        else:
            data["questions"] = self.survey(survey, choices is not None)
        return data

    # settings and choices

    def settings(self, sheet: _Sheet) -> dict[str, Any]:
        self.unknown_columns(sheet, SETTINGS_COLUMNS)
        row, values = sheet.rows[0] if sheet.rows else (2, ())
        data: dict[str, Any] = {}
        self.note((), sheet, row, "form_id")
        for column, name in (
            ("form_id", "key"), ("version", "version"), ("form_title", "title"),
            ("default_language", "language"), ("lyttepost::intro", "intro"),
            ("lyttepost::receipt", "receipt"),
        ):  # fmt: skip
            self.note((name,), sheet, row, column)
            raw = sheet.get(values, column)
            value: Any = (
                self.text_cell(sheet, values, column)
                if name in ("title", "intro", "receipt")
                else _word(raw)
            )
            if value is None:
                continue
            if name == "version" and re.fullmatch(r"\d+", value):
                data[name] = int(value)
            elif name == "language":
                code = re.fullmatch(r".*\((\w[\w-]*)\)\s*", value)
                data[name] = code.group(1) if code else value
            else:
                data[name] = value
        self.note(("needs_review",), sheet, row, "lyttepost::needs_review")
        review = _word(sheet.get(values, "lyttepost::needs_review"))
        if review is not None:
            data["needs_review"] = re.split(r"[\s,;]+", review.strip())
        for extra_row, _ in sheet.rows[1:]:
            self.problem(sheet, extra_row, "form_id", "settings has one row of values")
        return data

    def choices(self, sheet: _Sheet) -> None:
        self.unknown_columns(sheet, CHOICES_COLUMNS)
        for column in ("list_name", "name", "label"):
            if column not in sheet.headings:
                self.problem(sheet, 1, column, f"the sheet needs a column {column!r}")
        for row, values in sheet.rows:
            list_name = _word(sheet.get(values, "list_name"))
            if list_name is None:
                self.problem(sheet, row, "list_name", "which list does this choice belong to?")
                continue
            self.lists.setdefault(list_name, []).append(
                (row, sheet.get(values, "name"), self.text_cell(sheet, values, "label"))
            )

    def unknown_columns(self, sheet: _Sheet, known: tuple[str, ...]) -> None:
        own = ", ".join(k for k in known if k.startswith(PREFIX))
        translated = {v for variants in sheet.languages.values() for v in variants.values()}
        for key in sheet.headings:
            if key.startswith(PREFIX) and key not in known and key not in translated:
                self.problem(sheet, 1, key, f"unknown column; Lyttepost's own columns here: {own}")

    # the survey sheet

    def survey(self, sheet: _Sheet, has_choices: bool) -> list[dict[str, Any]]:
        self.unknown_columns(sheet, SURVEY_COLUMNS)
        questions: list[dict[str, Any]] = []
        self.note(("questions",), sheet, 1, "type")
        if "type" not in sheet.headings:
            self.problem(sheet, 1, "type", "the sheet needs a column 'type'")
            return questions
        stack: list[_Frame] = []
        anchor: int | None = None  # the question a follow-up block may attach to
        for row, values in sheet.rows:
            kind = _word(sheet.get(values, "type"))
            if kind is None:
                self.problem(sheet, row, "type", "the row has no type")
                continue
            kind = kind.lower()
            skipping = any(frame.role == "skipped" for frame in stack)
            block = next((f for f in reversed(stack) if f.role == "followups"), None)
            if kind in ("begin group", "begin_group", "begin repeat", "begin_repeat"):
                frame_kind = "repeat" if "repeat" in kind else "group"
                if skipping:
                    stack.append(_Frame(frame_kind, row, "skipped"))
                elif block is not None:
                    self.problem(sheet, row, "type", "follow-ups cannot have groups or repeats of their own")  # fmt: skip
                    stack.append(_Frame(frame_kind, row, "skipped"))
                else:
                    frame = self.begin(sheet, row, values, frame_kind, questions, anchor)
                    if frame.role == "plain":
                        anchor = None
                    stack.append(frame)
                continue
            if kind in ("end group", "end_group", "end repeat", "end_repeat"):
                frame_kind = "repeat" if "repeat" in kind else "group"
                if not stack or stack[-1].kind != frame_kind:
                    self.problem(sheet, row, "type", f"{kind} without begin {frame_kind}")
                    continue
                if stack.pop().role == "plain":
                    anchor = None
                continue
            if skipping:
                continue
            read = self.question(sheet, row, values, kind, has_choices)
            if read is None:
                name = _word(sheet.get(values, "name"))
                if block is not None and block.parent is not None:
                    self.broken.add(str(block.parent.get("id")))
                elif block is None:
                    self.placeholders.add(len(questions))
                    questions.append({"id": name} if name else {})
                    anchor = len(questions) - 1
                if name:
                    self.broken.add(name)
                continue
            question, option_rows = read
            own = self.relevant(sheet, row, values, block)
            if block is not None:
                assert block.target is not None and block.parent is not None
                path: Path_ = (*block.path, len(block.target))
                block.target.append(question)
                if own is not None:
                    question["when"] = own
                block.names[str(question.get("id"))] = question["type"]
                for value in block.options:
                    compiled = f"{block.parent.get('id')}.{value}.{question.get('id')}"
                    self.types[compiled] = question["type"]
            else:
                path = ("questions", len(questions))
                questions.append(question)
                conditions = [f.condition for f in stack if f.condition is not None]
                conditions += [own] if own is not None else []
                if conditions:  # the conditions of the groups around it come first
                    question["when"] = conditions[0] if len(conditions) == 1 else {"all": conditions}  # fmt: skip
                self.types[str(question.get("id"))] = question["type"]
                anchor = len(questions) - 1
            self.locate_question(sheet, row, path, option_rows)
        for frame in stack:
            self.problem(sheet, frame.row, "type", f"begin {frame.kind} without end {frame.kind}")
        return questions

    def begin(
        self,
        sheet: _Sheet,
        row: int,
        values: tuple[Any, ...],
        kind: str,
        questions: list[dict[str, Any]],
        anchor: int | None,
    ) -> _Frame:
        """A group or repeat: follow-ups of the question just before it, or a plain group."""
        parent = questions[anchor] if anchor is not None else None
        name = str(parent.get("id")) if parent is not None else ""
        if anchor in self.placeholders:  # follow-ups of a question with problems of its own
            return _Frame(kind, row, "skipped")
        if kind == "repeat":
            if anchor is None or parent is None or parent["type"] != "multi":
                self.problem(sheet, row, "type", "a repeat holds the follow-ups asked for each option chosen in the select_multiple question right before it")  # fmt: skip
                return _Frame(kind, row, "skipped")
            if "followups_each" in parent:
                self.problem(sheet, row, "type", f"{name!r} has a repeat already")
                return _Frame(kind, row, "skipped")
            if _count_selected(_word(sheet.get(values, "repeat_count"))) != name:
                self.problem(sheet, row, "repeat_count", f"write count-selected(${{{name}}}): the repeat asks its questions once for each option chosen in {name!r}")  # fmt: skip
            parent["followups_each"] = []
            path: Path_ = ("questions", anchor, "followups_each")
            self.note(path, sheet, row, "type")
            chosen = tuple(str(o.get("value")) for o in parent.get("options", []))
            return _Frame(kind, row, "followups", None, parent["followups_each"], path, parent, chosen)  # fmt: skip
        if _word(sheet.get(values, "repeat_count")) is not None:
            self.problem(sheet, row, "repeat_count", "repeat_count belongs on begin repeat")
        marker = _word(sheet.get(values, "lyttepost::followups"))
        if marker is not None and marker.lower() not in _YES + _NO:
            self.problem(sheet, row, "lyttepost::followups", f"write yes or no, not {marker!r}")
        followups = marker is not None and marker.lower() in _YES
        relevant = _text(sheet.get(values, "relevant"))
        where = "follow-ups of an option come right after their select question, with relevant selected(${question}, 'option')"  # fmt: skip
        if relevant is None:
            if followups:
                self.problem(sheet, row, "relevant", where)
                return _Frame(kind, row, "skipped")
            return _Frame(kind, row, "plain")
        try:
            condition = parse_relevant(relevant, self.types.get)
        except ExpressionError as error:
            self.problem(sheet, row, "relevant", str(error))
            return _Frame(kind, row, "skipped" if followups else "plain")
        if followups:
            operator = {"single": "equals", "multi": "includes"}.get(parent["type"]) if parent else None  # fmt: skip
            if (
                anchor is None
                or parent is None
                or operator is None
                or set(condition) != {"question", operator}
                or condition["question"] != name
            ):
                self.problem(sheet, row, "relevant", where)
                return _Frame(kind, row, "skipped")
            value = condition[operator]
            options = parent.get("options", [])
            index = next((i for i, o in enumerate(options) if o.get("value") == value), None)
            if index is None:
                self.problem(sheet, row, "relevant", f"{value!r} is not an option of {name!r}")
                return _Frame(kind, row, "skipped")
            followups_list = options[index].setdefault("followups", [])
            path = ("questions", anchor, "options", index, "followups")
            self.note(path, sheet, row, "relevant")
            return _Frame(kind, row, "followups", None, followups_list, path, parent, (str(value),))  # fmt: skip
        try:
            named = Condition.model_validate(condition).referenced_questions()
        except ValueError as error:
            self.problem(sheet, row, "relevant", str(error))
            return _Frame(kind, row, "plain")
        unknown = sorted(n for n in named if n not in self.types)
        if unknown:
            self.problem(sheet, row, "relevant", f"condition refers to {unknown[0]!r}, which is not an earlier question")  # fmt: skip
            return _Frame(kind, row, "plain")
        return _Frame(kind, row, "plain", condition)

    def question(
        self, sheet: _Sheet, row: int, values: tuple[Any, ...], kind: str, has_choices: bool
    ) -> tuple[dict[str, Any], list[int]] | None:
        """One question row as the YAML form of a question and the rows of its choices,
        or None after a problem."""
        words = kind.split()
        base, argument = words[0], " ".join(words[1:])
        base = {"select one": "select_one", "select multiple": "select_multiple"}.get(
            f"{words[0]} {words[1]}" if len(words) > 1 else "", base
        )
        if base in ("select_one", "select_multiple") and words[0] == "select":
            argument = " ".join(words[2:])
        question: dict[str, Any] = {}
        option_rows: list[int] = []
        name = _word(sheet.get(values, "name"))
        if name is not None:
            question["id"] = name
        own_type = (_word(sheet.get(values, "lyttepost::type")) or "").lower()
        if own_type not in ("", "yesno"):
            self.problem(sheet, row, "lyttepost::type", "the only value here is yesno (with select_one)")  # fmt: skip
        if base == "rank":
            if not argument or len(argument.split()) != 1:
                self.problem(sheet, row, "type", "rank LIST: name one choice list")
                return None
            found = self.options(sheet, row, argument, has_choices)
            if found is None:
                return None
            question["type"] = "ranking"
            question["options"], option_rows = found
        elif base in ("select_one", "select_multiple"):
            if not argument or len(argument.split()) != 1:
                reason = "or_other is not supported" if "or_other" in argument else "name one choice list"  # fmt: skip
                self.problem(sheet, row, "type", f"{base} LIST: {reason}")
                return None
            found = self.options(sheet, row, argument, has_choices)
            if found is None:
                return None
            options, rows = found
            if own_type == "yesno":
                if base != "select_one" or sorted(str(o.get("value")) for o in options) != [
                    YES,
                    NO,
                ]:
                    self.problem(sheet, row, "type", f"a yes/no question is select_one with a list of exactly the choices {YES} and {NO}")  # fmt: skip
                    return None
                question["type"] = "yesno"
            else:
                question["type"] = "single" if base == "select_one" else "multi"
                question["options"] = options
                option_rows = rows
        elif own_type == "yesno":
            self.problem(sheet, row, "lyttepost::type", "yesno goes with select_one")
            return None
        elif base == "text" and not argument:
            question["type"] = "text"
        elif base in ("integer", "decimal") and not argument:
            question["type"] = "number"
            question["integer"] = base == "integer"
        elif base == "range" and not argument:
            question["type"] = "scale"
        elif base in KNOWN_UNSUPPORTED_TYPES:
            self.problem(sheet, row, "type", f"type {kind!r} is not supported; use {TYPE_NAMES}")
            return None
        else:
            self.problem(sheet, row, "type", f"unknown type {kind!r}; use {TYPE_NAMES}")
            return None
        self.fields(sheet, row, values, question)
        return question, option_rows if "options" in question else []

    def options(
        self, sheet: _Sheet, row: int, list_name: str, has_choices: bool
    ) -> tuple[list[dict[str, Any]], list[int]] | None:
        choices = self.lists.get(list_name)
        if choices is None:
            where = "sheet choices" if has_choices else "the workbook (it has no sheet 'choices')"
            self.problem(sheet, row, "type", f"there is no choice list {list_name!r} in {where}")
            return None
        options: list[dict[str, Any]] = []
        for _, name, label in choices:
            option: dict[str, Any] = {}
            if _word(name) is not None:
                option["value"] = _word(name)
            if label is not None:
                option["label"] = label
            options.append(option)
        return options, [choice_row for choice_row, _, _ in choices]

    def fields(
        self, sheet: _Sheet, row: int, values: tuple[Any, ...], question: dict[str, Any]
    ) -> None:
        """The columns every question type shares, and those of its own type."""
        kind = question["type"]
        for column, key in (
            ("label", "text"), ("hint", "help"), ("lyttepost::short_label", "label"),
            ("lyttepost::scale_min_label", "scale_min_label"),
            ("lyttepost::scale_max_label", "scale_max_label"), ("lyttepost::unit", "unit"),
        ):  # fmt: skip
            text = self.text_cell(sheet, values, column)
            if text is not None:
                question[key] = text
        consent = _word(sheet.get(values, "lyttepost::consent_to_name"))
        if consent is not None:
            question["consent_to_name"] = consent
        if_skipped = _word(sheet.get(values, "lyttepost::if_skipped"))
        if if_skipped is not None:
            if if_skipped.lower() in _YES + _NO:
                question["if_skipped"] = if_skipped.lower() in _YES
            else:
                self.problem(sheet, row, "lyttepost::if_skipped", "write yes or no")
        required = sheet.get(values, "required")
        answer = _word(required)
        if answer is None:
            question["required"] = False  # XLSForm: a question is optional unless it says yes
        elif answer.lower() in _YES:
            question["required"] = True
        elif answer.lower() in _NO:
            question["required"] = False
        else:
            self.problem(sheet, row, "required", f"write yes or no, not {answer!r}")
        if kind == "ranking":
            self.ranking(sheet, row, values, question)
        for column in sorted(UNSUPPORTED_COLUMNS & set(sheet.headings)):
            if column == "choice_filter" and kind == "ranking":
                continue
            if _text(sheet.get(values, column)) is not None:
                self.problem(sheet, row, column, f"Lyttepost does not use {column}; leave it empty")  # fmt: skip
        for column in ("repeat_count", "lyttepost::followups"):
            if _word(sheet.get(values, column)) is not None:
                place = "begin repeat" if column == "repeat_count" else "begin group"
                self.problem(sheet, row, column, f"{column} belongs on {place}")
        parameters = _word(sheet.get(values, "parameters"))
        if kind == "scale":
            self.scale(sheet, row, parameters or "", question)
        elif parameters is not None:
            self.problem(sheet, row, "parameters", "parameters are for range questions")
        constraint = _word(sheet.get(values, "constraint"))
        if constraint is not None:
            self.constraint(sheet, row, constraint, question)

    def ranking(
        self, sheet: _Sheet, row: int, values: tuple[Any, ...], question: dict[str, Any]
    ) -> None:
        """``rank_count``, and ``choice_filter`` = ranking what an earlier select_multiple chose
        (its options then come from that question, not from the list)."""
        count = _word(sheet.get(values, "lyttepost::rank_count"))
        if count is not None:
            if count.isdigit():
                question["rank_count"] = int(count)
            else:
                self.problem(sheet, row, "lyttepost::rank_count", "write a whole number")
        text = _word(sheet.get(values, "choice_filter"))
        if text is None:
            return
        match = RANK_FILTER.fullmatch(text)
        if match is None:
            self.problem(sheet, row, "choice_filter", "the only filter is selected(${question}, name): rank what was chosen there")  # fmt: skip
            return
        question.pop("options", None)
        question["options_from"] = match.group(1)

    def scale(self, sheet: _Sheet, row: int, text: str, question: dict[str, Any]) -> None:
        found = {"start": 1, "end": 10, "step": 1}  # XLSForm's defaults
        for part in re.split(r"[\s,;]+", text.strip()):
            if not part:
                continue
            key, _, value = part.partition("=")
            if key.strip().lower() not in found or not re.fullmatch(r"-?\d+", value.strip()):
                self.problem(sheet, row, "parameters", "write start=1 end=5 step=1 (whole numbers)")  # fmt: skip
                return
            found[key.strip().lower()] = int(value)
        if found["step"] != 1:
            self.problem(sheet, row, "parameters", "Lyttepost's scales go in steps of 1")
            return
        question["scale_min"], question["scale_max"] = found["start"], found["end"]

    def constraint(self, sheet: _Sheet, row: int, text: str, question: dict[str, Any]) -> None:
        subjects = {"text": "string-length", "number": ".", "multi": "count-selected"}
        fields = {
            "string-length": ("min_length", "max_length"),
            ".": ("number_min", "number_max"),
            "count-selected": ("min_select", "max_select"),
        }
        subject = subjects.get(question["type"])
        if subject is None:
            self.problem(sheet, row, "constraint", f"a {question['type']} question takes no constraint")  # fmt: skip
            return
        try:
            parts = _constraint(text)
        except ExpressionError as error:
            self.problem(sheet, row, "constraint", str(error))
            return
        for found, op, number in parts:
            if found != subject:
                shown = "." if subject == "." else f"{subject}(.)"
                self.problem(sheet, row, "constraint", f"a {question['type']} question's constraint is on {shown}")  # fmt: skip
                return
            if subject != "." and not float(number).is_integer():
                self.problem(sheet, row, "constraint", "use whole numbers")
                return
            low, high = fields[subject]
            question[low if op == ">=" else high] = (
                int(number) if subject != "." or isinstance(number, int) else number
            )

    def relevant(
        self, sheet: _Sheet, row: int, values: tuple[Any, ...], block: _Frame | None
    ) -> dict[str, Any] | None:
        """The row's own condition; inside follow-ups, siblings are named by short name."""
        text = _text(sheet.get(values, "relevant"))
        if text is None:
            return None

        def type_of(name: str) -> str | None:
            if block is not None and name in block.names:
                return block.names[name]
            return self.types.get(name)

        try:
            return parse_relevant(text, type_of)
        except ExpressionError as error:
            self.problem(sheet, row, "relevant", str(error))
            return None

    def locate_question(self, sheet: _Sheet, row: int, path: Path_, option_rows: list[int]) -> None:
        self.note(path, sheet, row, "name")
        for key, column in _QUESTION_COLUMNS.items():
            self.note((*path, key), sheet, row, column)
        choices = self.book.sheets.get(CHOICES)
        if choices is None:
            return
        for index, choice_row in enumerate(option_rows):
            self.note((*path, "options", index), choices, choice_row, "name")
            self.note((*path, "options", index, "value"), choices, choice_row, "name")
            self.note((*path, "options", index, "label"), choices, choice_row, "label")


# Where each field of a question comes from on its row.
_QUESTION_COLUMNS = {
    "id": "name", "type": "type", "integer": "type", "options": "type",
    "text": "label", "help": "hint", "label": "lyttepost::short_label",
    "required": "required", "when": "relevant", "min_select": "constraint",
    "max_select": "constraint", "min_length": "constraint", "max_length": "constraint",
    "number_min": "constraint", "number_max": "constraint",
    "scale_min": "parameters", "scale_max": "parameters",
    "scale_min_label": "lyttepost::scale_min_label",
    "scale_max_label": "lyttepost::scale_max_label", "unit": "lyttepost::unit",
    "consent_to_name": "lyttepost::consent_to_name",
    "if_skipped": "lyttepost::if_skipped",
}  # fmt: skip


_YES = ("yes", "true", "true()", "1", "ja")
_NO = ("no", "false", "false()", "0", "nei")


def _count_selected(text: str | None) -> str | None:
    """The question named by ``count-selected(${q})``, else None."""
    if text is None:
        return None
    try:
        tokens = _tokens(text)
    except ExpressionError:
        return None
    shape = [t.kind if t.kind != "word" else t.text for t in tokens]
    return tokens[2].value if shape == ["count-selected", "(", "ref", ")"] else None


# --- writing ----------------------------------------------------------------------------------

Rows = list[list[Any]]


def relevant_text(when: Mapping[str, Any]) -> str:
    """A condition mapping (the YAML ``when:`` form) as a ``relevant`` expression."""
    return _expression(Condition.model_validate(when), nested=False)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return f"'{YES if value else NO}'"
    if isinstance(value, int | float):
        return _number_text(value)
    text = str(value)
    return f'"{text}"' if "'" in text else f"'{text}'"


def _expression(condition: Condition, *, nested: bool) -> str:
    for items, joiner in ((condition.all, " and "), (condition.any, " or ")):
        if items is not None:
            if len(items) == 1:
                return _expression(items[0], nested=nested)
            text = joiner.join(_expression(item, nested=True) for item in items)
            return f"({text})" if nested else text
    if condition.not_ is not None:
        return f"not({_expression(condition.not_, nested=False)})"
    ref = f"${{{condition.question}}}"
    if condition.answered is not None:
        return f"{ref} != ''" if condition.answered else f"{ref} = ''"
    if condition.includes is not None:
        return f"selected({ref}, {_literal(condition.includes)})"
    if condition.one_of is not None:
        words = " ".join(_literal(v).strip("'\"") for v in condition.one_of)
        return f"selected('{words}', {ref})"
    if condition.at_least is not None:
        return f"{ref} >= {_number_text(condition.at_least)}"
    if condition.at_most is not None:
        return f"{ref} <= {_number_text(condition.at_most)}"
    return f"{ref} = {_literal(condition.equals)}"


class _Writer:
    """The rows of the three sheets, follow-ups as repeats and groups."""

    def __init__(self, source: SurveySource) -> None:
        self.source = source
        self.survey: list[dict[str, Any]] = []  # rows by column
        self.choices: list[dict[str, Any]] = []
        self.list_names: set[str] = set()
        self.yesno_list: str | None = None

    def sheets(self) -> dict[str, Rows]:
        for question in self.source.questions:
            self.question(question, question.id)
            if question.followups_each:
                self.row(
                    type="begin repeat", name=self.unique(f"{question.id}_hvert_valg"),
                    label=f"Oppfølging for hvert valg i {question.id}",
                    repeat_count=f"count-selected(${{{question.id}}})", lp_followups="yes",
                )  # fmt: skip
                for followup in question.followups_each:
                    self.question(followup, f"{question.id}_{followup.id}")
                self.row(type="end repeat")
            for option in question.options:
                if not option.followups:
                    continue
                test = (
                    f"selected(${{{question.id}}}, {_literal(option.value)})"
                    if question.type == "multi"
                    else f"${{{question.id}}} = {_literal(option.value)}"
                )
                self.row(
                    type="begin group", name=self.unique(f"{question.id}_{option.value}"),
                    label=f"Oppfølging når «{source_text(option.label)}» er valgt", relevant=test,
                    lp_followups="yes",
                )  # fmt: skip
                for followup in option.followups:
                    self.question(followup, f"{question.id}_{option.value}_{followup.id}")
                self.row(type="end group")
        spec = self.source.spec
        settings: dict[str, Any] = {
            "form_id": spec.key, "version": spec.version, "default_language": spec.language,
            "lyttepost::needs_review": " ".join(spec.needs_review) or None,
        }  # fmt: skip
        for column, value in (
            ("form_title", spec.title), ("lyttepost::intro", spec.intro),
            ("lyttepost::receipt", spec.receipt),
        ):  # fmt: skip
            settings.update(_text_cells(column, value))
        return {
            SURVEY: _table(SURVEY_COLUMNS, self.survey),
            CHOICES: _table(CHOICES_COLUMNS, self.choices),
            SETTINGS: _table(SETTINGS_COLUMNS, [settings]),
        }

    def unique(self, wanted: str) -> str:
        name, number = wanted, 2
        while name in self.list_names:
            name, number = f"{wanted}_{number}", number + 1
        self.list_names.add(name)
        return name

    def row(self, **cells: Any) -> None:
        """A survey row; texts (a text per language) fill their language columns too."""
        row: dict[str, Any] = {}
        for column in SURVEY_COLUMNS:
            value = cells.get(column.replace("lyttepost::", "lp_"))
            if column in TEXT_COLUMNS[SURVEY] and value is not None:
                row.update(_text_cells(column, value))
            else:
                row[column] = value
        self.survey.append(row)

    def choice(self, list_name: str, value: str, label: TextValue) -> None:
        self.choices.append({"list_name": list_name, "name": value, **_text_cells("label", label)})

    def question(self, question: QuestionSpec, list_wanted: str) -> None:
        kind: str
        own_type = None
        ranked = None
        if question.type == "matrix":
            raise XlsformUnsupported(
                f"question {question.id!r} is a matrix: XLSForm has no form for it that reads "
                "back the same (a table-list group of select_one rows cannot take its rows "
                "from an earlier answer); keep this survey as YAML"
            )
        if question.type == "ranking":
            source = next((q for q in self.source.questions if q.id == question.options_from), None)
            options = source.options if source is not None else question.options
            list_name = self.unique(list_wanted)
            for option in options:
                self.choice(list_name, option.value, option.label)
            kind = f"rank {list_name}"
            if question.options_from:
                ranked = f"selected(${{{question.options_from}}}, name)"
        elif question.type in ("single", "multi"):
            list_name = self.unique(list_wanted)
            for option in question.options:
                self.choice(list_name, option.value, option.label)
            kind = f"{'select_one' if question.type == 'single' else 'select_multiple'} {list_name}"
        elif question.type == "yesno":
            if self.yesno_list is None:
                self.yesno_list = self.unique(YESNO_LIST)
                self.choice(self.yesno_list, YES, "Ja")
                self.choice(self.yesno_list, NO, "Nei")
            kind, own_type = f"select_one {self.yesno_list}", "yesno"
        elif question.type == "scale":
            kind = "range"
        elif question.type == "number":
            kind = "integer" if question.integer else "decimal"
        else:
            kind = "text"
        self.row(
            type=kind, name=question.id, label=question.text, hint=question.help,
            required="yes" if question.required else "no",
            relevant=relevant_text(question.when) if question.when else None,
            constraint=_constraint_text(question),
            parameters=(
                f"start={question.scale_min} end={question.scale_max} step=1"
                if question.type == "scale" else None
            ),
            lp_short_label=question.label, lp_type=own_type,
            lp_scale_min_label=question.scale_min_label,
            lp_scale_max_label=question.scale_max_label, lp_unit=question.unit,
            lp_consent_to_name=question.consent_to_name, choice_filter=ranked,
            lp_rank_count=question.rank_count,
            lp_if_skipped=(
                None if question.if_skipped is None else "yes" if question.if_skipped else "no"
            ),
        )  # fmt: skip


def _language_column(column: str, code: str) -> str:
    """``label::Norsk nynorsk (nn)``: XLSForm's ``column::language`` with the code."""
    return f"{column}::{LANGUAGE_NAMES[code]} ({code})"


def _text_cells(column: str, value: TextValue) -> dict[str, str]:
    """A text's cells: bokmål in ``column``, each other language in its own column."""
    cells = {column: source_text(value)}
    for code, text in text_translations(value).items():
        cells[_language_column(column, code)] = text
    return cells


def _table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Rows:
    """Headings and rows: the sheet's columns, then the language columns its texts use
    (after them, so a column keeps its letter whether a survey is translated or not)."""
    used = {key for row in rows for key in row}
    extra = [
        _language_column(column, code)
        for column in columns
        for code in LANGUAGES
        if code != SOURCE and _language_column(column, code) in used
    ]
    headings = [*columns, *extra]
    return [headings, *([row.get(h) for h in headings] for row in rows)]


def _constraint_text(question: QuestionSpec) -> str | None:
    """Limits that differ from what a blank constraint means (the YAML defaults)."""
    parts: list[str] = []
    if question.type == "multi":
        if question.min_select is not None:
            parts.append(f"count-selected(.) >= {question.min_select}")
        if question.max_select is not None:
            parts.append(f"count-selected(.) <= {question.max_select}")
    elif question.type == "text":
        defaults = QuestionSpec.model_fields
        if question.min_length != defaults["min_length"].default:
            parts.append(f"string-length(.) >= {question.min_length}")
        if question.max_length != defaults["max_length"].default:
            parts.append(f"string-length(.) <= {question.max_length}")
    elif question.type == "number":
        if question.number_min is not None:
            parts.append(f". >= {_number_text(question.number_min)}")
        if question.number_max is not None:
            parts.append(f". <= {_number_text(question.number_max)}")
    return " and ".join(parts) or None


def xlsform_sheets(source: SurveySource) -> dict[str, Rows]:
    """The rows (headings first) of the sheets ``survey``, ``choices`` and ``settings``
    for a survey; ``load_xlsform`` reads a workbook of them back to the same survey."""
    return _Writer(source).sheets()
