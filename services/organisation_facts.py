"""Facts about member organisations: population, KOSTRA group, region and written
language, which peer groups and the languages issue read (issue 14).

``parse_facts`` checks a CSV file against the registry without touching the database
(a pure function of its text and the organisations' codes and names); ``import_facts``
applies a file in the caller's transaction, all lines or none, and audits it;
``set_facts`` changes one organisation's facts with the same rules. Problems are data
(``Problem``) with an English sentence for the CLI and a Norwegian one for the workspace.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from storage.orm import Organisation
from storage.seed import resolve_org_code

Column = Literal["population", "kostra_group", "region", "language"]
FACT_COLUMNS: tuple[Column, ...] = ("population", "kostra_group", "region", "language")
LANGUAGES = {"nb": "bokmål", "nn": "nynorsk", "se": "nordsamisk"}
DEFAULT_LANGUAGE = "nb"
MAX_POPULATION = 2_000_000
MAX_LENGTH: dict[Column, int] = {"kostra_group": 20, "region": 60}
# Header names accepted for each column: the English ones, and the Norwegian ones staff
# are likely to type in Excel.
HEADER_ALIASES: dict[str, set[str]] = {
    "org": {"org", "kommunenummer", "fylkesnummer", "nummer", "organisasjon"},
    "population": {"population", "folketall", "innbyggere", "innbyggertall"},
    "kostra_group": {"kostra_group", "kostragruppe", "kostra-gruppe", "kostra"},
    "region": {"region"},
    "language": {"language", "språk", "målform", "skriftspråk"},
}
# Spaces Excel and people put between thousands: space, no-break space, narrow no-break.
THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
WHOLE = re.compile(r"^-?[0-9]+$")
NAMES_EN: dict[str, str] = {c: c for c in ("org", *FACT_COLUMNS)}
NAMES_NB: dict[str, str] = {
    "org": "org",
    "population": "innbyggere",
    "kostra_group": "KOSTRA-gruppe",
    "region": "region",
    "language": "skriftspråk",
}


@dataclass(frozen=True)
class Facts:
    """One organisation's facts; None: not known."""

    population: int | None = None
    kostra_group: str | None = None
    region: str | None = None
    language: str = DEFAULT_LANGUAGE

    def value(self, column: Column) -> int | str | None:
        value: int | str | None = getattr(self, column)
        return value

    @property
    def language_name(self) -> str:
        """``nynorsk`` for ``nn``: the language spelled out in Norwegian."""
        return LANGUAGES.get(self.language, self.language)


@dataclass(frozen=True)
class OrganisationFacts:
    """An organisation with its facts."""

    code: str
    name: str
    facts: Facts


ProblemKind = Literal[
    "not_whole_number", "population_range", "too_long", "bad_language", "unknown_org",
    "ambiguous_org", "empty_org", "duplicate_org", "unknown_column", "duplicate_column",
    "unnamed_column", "missing_org_column", "no_fact_columns", "cell_count", "empty_file",
    "no_lines", "not_csv",
]  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """Something wrong with a value or a file.

    ``line`` is the file's line (1: the header; None for a single edit), ``column`` the
    column's key (``population``...) and ``header`` the name it has in the file.
    ``position`` is a header cell's place (1: the first). ``value`` is the offending
    text; ``extra`` what else the sentence needs.
    """

    kind: ProblemKind
    line: int | None = None
    column: str | None = None
    value: str = ""
    header: str | None = None
    extra: tuple[str, ...] = ()
    position: int | None = None

    def _where(self, names: Mapping[str, str], line_word: str) -> str:
        column = self.header or (names.get(self.column, self.column) if self.column else None)
        if column is None and self.position is not None:
            column = f"{'column' if line_word == 'line' else 'kolonne'} {self.position}"
        if self.line is None:
            return column or ""
        return f"{line_word} {self.line}, {column}" if column else f"{line_word} {self.line}"

    @property
    def english(self) -> str:
        """The problem as the CLI prints it after ``error: ``."""
        where = self._where(NAMES_EN, "line")
        reason = _english_reason(self)
        return f"{where}: {reason}" if where else reason

    @property
    def reason_nb(self) -> str:
        """Only what is wrong, in Norwegian (beside a form's field, which names the place)."""
        return _norwegian_reason(self)

    @property
    def norwegian(self) -> str:
        """The problem in words KS staff read in the workspace (a sentence)."""
        where = self._where(NAMES_NB, "Linje")
        reason = self.reason_nb
        text = f"{where}: {reason}" if where else reason[:1].upper() + reason[1:]
        return text if text.endswith(".") else text + "."


def _shown(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _english_reason(p: Problem) -> str:
    value = f'"{_shown(p.value)}"'
    known = ", ".join(("org", *FACT_COLUMNS))
    match p.kind:
        case "not_whole_number":
            return f"{value} is not a whole number"
        case "population_range":
            return f"{value} is outside 0-{MAX_POPULATION}"
        case "too_long":
            return f"{value} is longer than {p.extra[0]} characters"
        case "bad_language":
            return f"{value} is not a language code; use nb, nn or se (empty: nb)"
        case "unknown_org":
            return f"{value} is no member organisation's code or name"
        case "ambiguous_org":
            return f"{value} names several organisations; use the code ({' or '.join(p.extra)})"
        case "empty_org":
            return "empty; every line needs the organisation's code"
        case "duplicate_org":
            return f"{value} is also on line {p.extra[0]}"
        case "unknown_column":
            return f"unknown column {value}; the columns are {known}"
        case "duplicate_column":
            return f"column {value} appears twice"
        case "unnamed_column":
            return "this column has values but no name in the header"
        case "missing_org_column":
            return f"the header has no org column; the columns are {known}"
        case "no_fact_columns":
            return f"the header has no column to import; the columns are {known}"
        case "cell_count":
            return (
                f"{p.extra[0]} cells, but the header has {p.extra[1]} columns "
                "(a separator inside a value?)"
            )
        case "empty_file":
            return f"the file is empty; the first line must be a header such as org;{known[5:]}"
        case "no_lines":
            return "the file has a header but no organisations"
        case "not_csv":
            return "not a CSV file"


def _norwegian_reason(p: Problem) -> str:
    value = f"«{_shown(p.value)}»"
    known = "org, population, kostra_group, region og language"
    match p.kind:
        case "not_whole_number":
            return f"{value} er ikke et helt tall"
        case "population_range":
            return f"{value} må være mellom 0 og 2 000 000"
        case "too_long":
            return f"{value} er lengre enn {p.extra[0]} tegn"
        case "bad_language":
            return f"{value} er ikke en språkkode; bruk nb, nn eller se (tom: nb)"
        case "unknown_org":
            return f"{value} er verken kommunenummer, fylkesnummer eller navn på et medlem"
        case "ambiguous_org":
            return f"{value} er navnet på flere organisasjoner; bruk nummeret ({' eller '.join(p.extra)})"
        case "empty_org":
            return "mangler; hver linje må ha organisasjonens nummer"
        case "duplicate_org":
            return f"{value} står også på linje {p.extra[0]}"
        case "unknown_column":
            return f"ukjent kolonne {value}; kolonnene er {known}"
        case "duplicate_column":
            return f"kolonnen {value} står to ganger"
        case "unnamed_column":
            return "kolonnen har verdier, men mangler navn i overskriftslinjen"
        case "missing_org_column":
            return f"overskriftslinjen mangler kolonnen org; kolonnene er {known}"
        case "no_fact_columns":
            return f"overskriftslinjen har ingen kolonne å importere; kolonnene er {known}"
        case "cell_count":
            return (
                f"{p.extra[0]} celler, men overskriftslinjen har {p.extra[1]} kolonner "
                "(skilletegn inne i en verdi?)"
            )
        case "empty_file":
            return "filen er tom; første linje må være overskrifter, for eksempel org;population"
        case "no_lines":
            return "filen har overskrifter, men ingen organisasjoner"
        case "not_csv":
            return "dette er ikke en CSV-fil"


class FactsError(ValueError):
    """Facts that cannot be saved as given; ``problems`` says why, one per value."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.english for p in problems))
        self.problems = tuple(problems)


# --- one value ---------------------------------------------------------------------------------


def parse_value(column: Column, raw: str) -> int | str | None | Problem:
    """A cell's value for ``column`` (None: clear it), or the problem with it.

    Population is a whole number 0..2 000 000 (spaces between thousands allowed, as
    Excel writes them); KOSTRA group and region are text up to 20 and 60 characters;
    language is nb, nn or se, and empty means nb.
    """
    text = " ".join(raw.split())
    if column == "population":
        if not text:
            return None
        digits = THOUSANDS.sub("", raw.strip())
        if not WHOLE.match(digits):
            return Problem("not_whole_number", column=column, value=raw.strip())
        number = int(digits)
        if not 0 <= number <= MAX_POPULATION:
            return Problem("population_range", column=column, value=raw.strip())
        return number
    if column == "language":
        code = text.lower()
        if not code:
            return DEFAULT_LANGUAGE
        if code not in LANGUAGES:
            return Problem("bad_language", column=column, value=text)
        return code
    if not text:
        return None
    limit = MAX_LENGTH[column]
    if len(text) > limit:
        return Problem("too_long", column=column, value=text, extra=(str(limit),))
    return text


# --- the registry, as the parser needs it ------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """The members' codes and names, for resolving the ``org`` cell without a database."""

    names: Mapping[str, str]  # code -> name

    def resolve(self, cell: str) -> str | Problem:
        """The organisation's code for a cell holding its code or its name (``Herøy``
        alone names two: then the codes to choose from)."""
        text = " ".join(cell.split())
        if not text:
            return Problem("empty_org", column="org")
        code = resolve_org_code(text)
        if code in self.names:
            return code
        if text.isdigit():
            return Problem("unknown_org", column="org", value=text)
        wanted = text.casefold()
        exact = [c for c, n in self.names.items() if n.casefold() == wanted]
        if len(exact) == 1:
            return exact[0]
        base = [c for c, n in self.names.items() if n.split(" (")[0].casefold() == wanted]
        if len(base) == 1:
            return base[0]
        if len(base) > 1:
            return Problem("ambiguous_org", column="org", value=text, extra=tuple(sorted(base)))
        return Problem("unknown_org", column="org", value=text)


# --- a file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactLine:
    """One organisation's new values, for the columns the file has."""

    line: int
    code: str
    values: Mapping[Column, int | str | None]


@dataclass(frozen=True)
class ParsedFacts:
    """A checked file: its columns and lines, or every problem in it."""

    columns: tuple[Column, ...] = ()
    lines: tuple[FactLine, ...] = ()
    problems: tuple[Problem, ...] = ()


def _delimiter(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def _header(cells: list[str], rows: list[list[str]]) -> tuple[dict[str, int], list[Problem]]:
    """Column key -> position, and the problems with the header line."""
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for index, raw in enumerate(cells):
        name = raw.strip().lstrip("\ufeff").strip()
        if not name:
            if any(index < len(row) and row[index].strip() for row in rows):
                problems.append(Problem("unnamed_column", line=1, position=index + 1))
            continue
        key = next((k for k, names in HEADER_ALIASES.items() if name.lower() in names), None)
        if key is None:
            problems.append(Problem("unknown_column", line=1, value=name, position=index + 1))
        elif key in positions:
            problems.append(Problem("duplicate_column", line=1, value=name, position=index + 1))
        else:
            positions[key] = index
    if not problems:
        if "org" not in positions:
            problems.append(Problem("missing_org_column", line=1))
        elif len(positions) == 1:
            problems.append(Problem("no_fact_columns", line=1))
    return positions, problems


def parse_facts(text: str, registry: Registry) -> ParsedFacts:
    """Check a facts CSV (``,`` or ``;``, UTF-8 with or without BOM, already decoded):
    every problem in the file at once, or the lines to apply.

    The header names ``org`` and any of ``population``, ``kostra_group``, ``region``,
    ``language``; blank lines are skipped; an organisation may appear once.
    """
    text = text.lstrip("\ufeff")
    if not text.strip():
        return ParsedFacts(problems=(Problem("empty_file"),))
    header_line = text.splitlines()[0]
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(header_line)))
    except csv.Error:
        return ParsedFacts(problems=(Problem("not_csv"),))
    positions, problems = _header(rows[0], rows[1:])
    if problems:
        return ParsedFacts(problems=tuple(problems))
    headers = {
        key: rows[0][index].strip().lstrip("\ufeff").strip() for key, index in positions.items()
    }
    columns = tuple(c for c in FACT_COLUMNS if c in positions)
    width = len(rows[0])
    needed = max(positions.values()) + 1
    seen: dict[str, int] = {}
    lines: list[FactLine] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < needed or any(cell.strip() for cell in row[width:]):
            problems.append(Problem("cell_count", line=number, extra=(str(len(row)), str(width))))
            continue
        found: list[Problem] = []
        code = registry.resolve(row[positions["org"]])
        if isinstance(code, Problem):
            found.append(code)
        elif code in seen:
            found.append(Problem("duplicate_org", column="org", value=row[positions["org"]].strip(),
                                 extra=(str(seen[code]),)))  # fmt: skip
        else:
            seen[code] = number
        values: dict[Column, int | str | None] = {}
        for column in columns:
            value = parse_value(column, row[positions[column]])
            if isinstance(value, Problem):
                found.append(value)
            else:
                values[column] = value
        problems.extend(
            Problem(p.kind, number, p.column, p.value, headers.get(p.column or ""), p.extra)
            for p in found
        )
        if not found and isinstance(code, str):
            lines.append(FactLine(number, code, values))
    if not problems and not lines:
        problems.append(Problem("no_lines"))
    if problems:
        return ParsedFacts(columns=columns, problems=tuple(problems))
    return ParsedFacts(columns=columns, lines=tuple(lines))


def decode_csv(raw: bytes) -> str | None:
    """A file's text: UTF-8, with or without the BOM Excel writes; None if it is not."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


# --- the database -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One fact of one organisation, before and after."""

    code: str
    name: str
    column: Column
    before: int | str | None
    after: int | str | None


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did (nothing, with problems)."""

    columns: tuple[Column, ...] = ()
    lines: int = 0
    changes: tuple[Change, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def updated(self) -> int:
        """Organisations with at least one fact changed."""
        return len({c.code for c in self.changes})

    @property
    def unchanged(self) -> int:
        """Organisations in the file whose facts were already as given."""
        return self.lines - self.updated

    def changed_per_column(self) -> dict[str, int]:
        """How many organisations had each column changed."""
        return {c: sum(1 for x in self.changes if x.column == c) for c in self.columns}


def _facts(organisation: Organisation) -> Facts:
    return Facts(
        organisation.population,
        organisation.kostra_group,
        organisation.region,
        organisation.language or DEFAULT_LANGUAGE,
    )


async def registry(session: AsyncSession) -> Registry:
    """The members' codes and names."""
    rows = await session.execute(select(Organisation.code, Organisation.name))
    return Registry({code: name for code, name in rows})


def _apply(organisation: Organisation, values: Mapping[Column, int | str | None]) -> list[Change]:
    changes = []
    before = _facts(organisation)
    for column, after in values.items():
        if before.value(column) != after:
            setattr(organisation, column, after)
            changes.append(
                Change(organisation.code, organisation.name, column, before.value(column), after)
            )
    return changes


def _audit_detail(changes: Iterable[Change]) -> dict[str, Any]:
    return {c.column: {"before": c.before, "after": c.after} for c in changes}


async def import_facts(
    session: AsyncSession,
    text: str,
    actor: audit.Actor,
    now: datetime,
    filename: str | None = None,
) -> ImportOutcome:
    """Apply a facts file in the caller's transaction: every line or, with any problem,
    none (nothing is written and the problems are returned). Audited as
    ``organisation.facts_import`` when something changed."""
    parsed = parse_facts(text, await registry(session))
    if parsed.problems:
        return ImportOutcome(columns=parsed.columns, problems=parsed.problems)
    codes = [line.code for line in parsed.lines]
    found = {
        o.code: o
        for o in await session.scalars(select(Organisation).where(Organisation.code.in_(codes)))
    }
    changes: list[Change] = []
    for line in parsed.lines:
        changes.extend(_apply(found[line.code], line.values))
    outcome = ImportOutcome(parsed.columns, len(parsed.lines), tuple(changes))
    if changes:
        await session.flush()
        audit.record(
            session, actor, "organisation.facts_import", None, now,
            file=filename, lines=outcome.lines, updated=outcome.updated,
            changed=outcome.changed_per_column(),
        )  # fmt: skip
    return outcome


async def _organisation(session: AsyncSession, org: str) -> Organisation:
    code = (await registry(session)).resolve(org)
    if isinstance(code, Problem):
        raise FactsError([code])
    found = await session.scalar(select(Organisation).where(Organisation.code == code))
    assert found is not None  # the registry was read in this session
    return found


async def facts_of(session: AsyncSession, org: str) -> OrganisationFacts:
    """One organisation's facts, by code or unambiguous name (``FactsError`` otherwise)."""
    organisation = await _organisation(session, org)
    return OrganisationFacts(organisation.code, organisation.name, _facts(organisation))


async def facts_by_code(session: AsyncSession) -> dict[str, Facts]:
    """Every organisation's facts, by code (for lists)."""
    return {o.code: _facts(o) for o in await session.scalars(select(Organisation))}


@dataclass(frozen=True)
class FactsForm:
    """A single edit as typed: each fact's text (an empty population clears it)."""

    population: str = ""
    kostra_group: str = ""
    region: str = ""
    language: str = DEFAULT_LANGUAGE


async def set_facts(
    session: AsyncSession, org: str, form: FactsForm, actor: audit.Actor, now: datetime
) -> list[Change]:
    """Set all four facts of one organisation (validated as an import's cells are), in
    the caller's transaction; audited as ``organisation.facts`` when something changed.
    ``FactsError`` lists every bad value."""
    organisation = await _organisation(session, org)
    values: dict[Column, int | str | None] = {}
    problems: list[Problem] = []
    for column in FACT_COLUMNS:
        value = parse_value(column, getattr(form, column))
        if isinstance(value, Problem):
            problems.append(value)
        else:
            values[column] = value
    if problems:
        raise FactsError(problems)
    changes = _apply(organisation, values)
    if changes:
        await session.flush()
        audit.record(
            session, actor, "organisation.facts", f"organisation:{organisation.code}", now,
            **_audit_detail(changes),
        )  # fmt: skip
    return changes


async def set_language(
    session: AsyncSession, org: str, language: str, actor: audit.Actor, now: datetime
) -> tuple[OrganisationFacts, Change | None]:
    """Set only the organisation's written language (``nb``, ``nn`` or ``se``; nothing
    else, and no empty value), audited as ``organisation.facts`` as the other edits are.
    Returns the organisation as it is now and the change (None: it had that language).
    ``FactsError`` for an unknown or ambiguous organisation or a wrong code."""
    organisation = await _organisation(session, org)
    code = language.strip().lower()
    if code not in LANGUAGES:
        raise FactsError([Problem("bad_language", column="language", value=language.strip())])
    changes = _apply(organisation, {"language": code})
    if changes:
        await session.flush()
        audit.record(
            session, actor, "organisation.facts", f"organisation:{organisation.code}", now,
            **_audit_detail(changes),
        )  # fmt: skip
    facts = OrganisationFacts(organisation.code, organisation.name, _facts(organisation))
    return facts, (changes[0] if changes else None)
