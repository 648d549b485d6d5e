"""Organisation facts: checking a CSV file without a database (every problem with its
line and column), then importing all lines or none, and single edits, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import audit
from services.organisation_facts import (
    MAX_POPULATION,
    FactLine,
    FactsError,
    FactsForm,
    Problem,
    Registry,
    facts_by_code,
    facts_of,
    import_facts,
    parse_facts,
    set_facts,
)
from storage.orm import AuditEntry, Organisation
from storage.seed import reference_members

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
REGISTRY = Registry({m.code: m.name for m in reference_members()})
GOOD = (
    "org,population,kostra_group,region,language\n"
    "3301,102 273,K13,Buskerud,nb\n"
    "\n"
    "4601,291\u00a0940,K14,Vestland,NN\n"
    "46,,,,\n"
)


def by_code(lines: tuple[FactLine, ...]) -> dict[str, dict[str, object]]:
    return {line.code: dict(line.values) for line in lines}


def only(problems: tuple[Problem, ...]) -> Problem:
    assert len(problems) == 1, [p.english for p in problems]
    return problems[0]


# --- parsing and checking, no database ---------------------------------------------------------


def test_a_good_file_gives_each_line_its_values() -> None:
    parsed = parse_facts(GOOD, REGISTRY)
    assert parsed.problems == ()
    assert parsed.columns == ("population", "kostra_group", "region", "language")
    assert by_code(parsed.lines) == {
        "3301": {"population": 102273, "kostra_group": "K13", "region": "Buskerud",
                 "language": "nb"},
        "4601": {"population": 291940, "kostra_group": "K14", "region": "Vestland",
                 "language": "nn"},
        # Empty cells clear a fact; an empty language is bokmål.
        "46": {"population": None, "kostra_group": None, "region": None, "language": "nb"},
    }  # fmt: skip
    assert [line.line for line in parsed.lines] == [2, 4, 5]  # the blank line 3 is skipped


def test_an_excel_export_with_bom_and_semicolons_reads_the_same() -> None:
    excel = "\ufeff" + GOOD.replace(",", ";").replace("\n", "\r\n")
    parsed = parse_facts(excel, REGISTRY)
    assert parsed.problems == ()
    assert by_code(parsed.lines) == by_code(parse_facts(GOOD, REGISTRY).lines)


def test_a_semicolon_file_keeps_commas_inside_values() -> None:
    parsed = parse_facts("org;region\n1103;Nord-Jæren, Rogaland\n", REGISTRY)
    assert by_code(parsed.lines) == {"1103": {"region": "Nord-Jæren, Rogaland"}}
    assert parsed.columns == ("region",)


def test_only_the_columns_in_the_file_are_given() -> None:
    parsed = parse_facts("kommunenummer;innbyggere\n03;709 037\n301;709 037\n", REGISTRY)
    assert parsed.columns == ("population",)
    assert only(parsed.problems).kind == "duplicate_org"  # 03 and 301 are both Oslo's 0301
    parsed = parse_facts("Kommunenummer;Innbyggere\n03;709 037\n", REGISTRY)
    assert by_code(parsed.lines) == {"0301": {"population": 709037}}


def test_a_bad_number_names_line_column_and_value() -> None:
    text = "org;population\n3301;102000\n4601;12 000x\n1103;2,5\n5001;1 2345\n"
    problems = parse_facts(text, REGISTRY).problems
    assert [(p.line, p.column, p.value, p.kind) for p in problems] == [
        (3, "population", "12 000x", "not_whole_number"),
        (4, "population", "2,5", "not_whole_number"),
        (5, "population", "1 2345", "not_whole_number"),
    ]
    assert problems[0].english == 'line 3, population: "12 000x" is not a whole number'
    assert problems[0].norwegian == "Linje 3, population: «12 000x» er ikke et helt tall."


def test_population_must_be_within_limits() -> None:
    text = f"org,population\n3301,{MAX_POPULATION}\n4601,{MAX_POPULATION + 1}\n1103,-1\n"
    parsed = parse_facts(text, REGISTRY)
    assert [(p.line, p.kind) for p in parsed.problems] == [
        (3, "population_range"),
        (4, "population_range"),
    ]
    assert parsed.lines == ()  # nothing to apply while anything is wrong


def test_text_facts_have_length_limits() -> None:
    text = f"org,kostra_group,region\n3301,{'K' * 21},{'R' * 60}\n4601,{'K' * 20},{'R' * 61}\n"
    problems = parse_facts(text, REGISTRY).problems
    assert [(p.line, p.column, p.extra) for p in problems] == [
        (2, "kostra_group", ("20",)),
        (3, "region", ("60",)),
    ]
    assert "is longer than 20 characters" in problems[0].english


def test_organisations_by_code_or_by_a_name_only_one_has() -> None:
    text = "org;population\nDrammen;1\nherøy (nordland);2\nVestland fylkeskommune;3\n"
    assert set(by_code(parse_facts(text, REGISTRY).lines)) == {"3301", "1818", "46"}

    text = "org;population\n9999;1\nHerøy;2\nAtlantis;3\n;4\n"
    problems = parse_facts(text, REGISTRY).problems
    assert [(p.line, p.column, p.kind) for p in problems] == [
        (2, "org", "unknown_org"),
        (3, "org", "ambiguous_org"),
        (4, "org", "unknown_org"),
        (5, "org", "empty_org"),
    ]
    herøy = problems[1]
    codes = sorted(m.code for m in reference_members() if m.name.startswith("Herøy ("))
    assert list(herøy.extra) == codes and " or ".join(codes) in herøy.english


def test_an_organisation_on_two_lines_is_refused() -> None:
    problem = only(parse_facts("org,region\n3301,A\n4601,B\n3301,C\n", REGISTRY).problems)
    assert (problem.line, problem.kind, problem.extra) == (4, "duplicate_org", ("2",))


def test_unknown_columns_are_named_and_nothing_else_is_read() -> None:
    text = "org;population;innbyggere2;fylke\n3301;oops;1;2\n"
    problems = parse_facts(text, REGISTRY).problems
    assert [(p.line, p.kind, p.value) for p in problems] == [
        (1, "unknown_column", "innbyggere2"),
        (1, "unknown_column", "fylke"),
    ]
    assert problems[0].english.startswith('line 1, column 3: unknown column "innbyggere2"')
    assert problems[1].norwegian.startswith("Linje 1, kolonne 4: ukjent kolonne «fylke»")
    twice = only(parse_facts("org,population,folketall\n", REGISTRY).problems)
    assert (twice.kind, twice.value) == ("duplicate_column", "folketall")


def test_a_bad_language_is_refused_and_codes_ignore_case() -> None:
    text = "org;language\n3301;NB\n4601;nn\n5610;se\n1103;bokmål\n5001;en\n"
    parsed = parse_facts(text, REGISTRY)
    assert [(p.line, p.column, p.value) for p in parsed.problems] == [
        (5, "language", "bokmål"),
        (6, "language", "en"),
    ]
    assert all(p.kind == "bad_language" for p in parsed.problems)
    assert "use nb, nn or se" in parsed.problems[0].english


def test_every_problem_in_the_file_is_reported_at_once() -> None:
    text = "org;population;language\n9999;x;xx\n3301;5;nb\nHerøy;-3;\n"
    problems = parse_facts(text, REGISTRY).problems
    assert [(p.line, p.column) for p in problems] == [
        (2, "org"), (2, "population"), (2, "language"), (4, "org"), (4, "population"),
    ]  # fmt: skip


def test_the_shape_of_the_file_is_checked() -> None:
    cases = {
        "": "empty_file",
        "  \n\n": "empty_file",
        "org;population\n": "no_lines",
        "org;population\n\n;\n": "no_lines",
        "population;region\n5;A\n": "missing_org_column",
        "org\n3301\n": "no_fact_columns",
        "org;population\n3301\n": "cell_count",
        "org;population\n3301;5;Drammen\n": "cell_count",
        "org;population;\n3301;5;oops\n": "unnamed_column",
        "org;region\n3301;" + "x" * 200_000 + "\n": "not_csv",  # over csv's field limit
    }
    for text, kind in cases.items():
        assert only(parse_facts(text, REGISTRY).problems).kind == kind, text
    # Excel's trailing separators with nothing after them are fine.
    parsed = parse_facts("org;population;;\n3301;5;;\n4601;6\n", REGISTRY)
    assert parsed.problems == () and len(parsed.lines) == 2


# --- the database (SQLite and PostgreSQL) ----------------------------------------------------


async def facts_row(session: AsyncSession, code: str) -> tuple[object, ...]:
    row = await session.execute(
        select(
            Organisation.population,
            Organisation.kostra_group,
            Organisation.region,
            Organisation.language,
        ).where(Organisation.code == code)
    )
    return tuple(row.one())


async def audit_actions(session: AsyncSession) -> list[tuple[str, str | None, dict[str, object]]]:
    rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(e.action, e.target, dict(e.detail)) for e in rows]


async def test_an_import_applies_every_line_and_is_audited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        outcome = await import_facts(session, GOOD, audit.CLI, NOW, "fakta.csv")
    assert outcome.problems == () and outcome.lines == 3
    # Vestland fylkeskommune's facts were unknown and stay so (language nb as before).
    assert (outcome.updated, outcome.unchanged) == (2, 1)
    assert {(c.code, c.column, c.before, c.after) for c in outcome.changes} == {
        ("3301", "population", None, 102273), ("3301", "kostra_group", None, "K13"),
        ("3301", "region", None, "Buskerud"),
        ("4601", "population", None, 291940), ("4601", "kostra_group", None, "K14"),
        ("4601", "region", None, "Vestland"), ("4601", "language", "nb", "nn"),
    }  # fmt: skip
    async with sessions() as session:
        assert await facts_row(session, "3301") == (102273, "K13", "Buskerud", "nb")
        assert await facts_row(session, "4601") == (291940, "K14", "Vestland", "nn")
        assert await facts_row(session, "46") == (None, None, None, "nb")
        assert await audit_actions(session) == [
            ("organisation.facts_import", None,
             {"file": "fakta.csv", "lines": 3, "updated": 2,
              "changed": {"population": 2, "kostra_group": 2, "region": 2, "language": 1}}),
        ]  # fmt: skip

    # Columns the file lacks are left alone; an empty cell clears; language empty is nb.
    async with sessions.begin() as session:
        again = await import_facts(
            session, "org;region;language\n3301;;\n4601;Vest;\n", audit.CLI, NOW
        )
    assert again.updated == 2 and again.columns == ("region", "language")
    async with sessions() as session:
        assert await facts_row(session, "3301") == (102273, "K13", None, "nb")
        assert await facts_row(session, "4601") == (291940, "K14", "Vest", "nb")

    # The same file twice: nothing changes and nothing is logged.
    async with sessions.begin() as session:
        same = await import_facts(session, "org;region\n4601;Vest\n", audit.CLI, NOW)
    assert (same.updated, same.unchanged, same.changes) == (0, 1, ())
    async with sessions() as session:
        assert len(await audit_actions(session)) == 2


async def test_a_file_with_one_bad_line_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await import_facts(session, "org,population,region\n3301,100,Buskerud\n", audit.CLI, NOW)
    bad = "org,population,region\n3301,200,Viken\n4601,300,Vestland\n1103,12 000x,Rogaland\n"
    async with sessions.begin() as session:
        outcome = await import_facts(session, bad, audit.CLI, NOW)
    assert [p.english for p in outcome.problems] == [
        'line 4, population: "12 000x" is not a whole number'
    ]
    assert outcome.changes == () and outcome.updated == 0
    async with sessions() as session:
        assert await facts_row(session, "3301") == (100, None, "Buskerud", "nb")
        assert await facts_row(session, "4601") == (None, None, None, "nb")
        assert len(await audit_actions(session)) == 1  # only the first import


async def test_an_import_is_part_of_the_callers_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A failure after the import (in the same transaction) leaves no fact and no audit."""
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            outcome = await import_facts(session, GOOD, audit.CLI, NOW)
            assert outcome.updated == 2
            raise RuntimeError("something after the import failed")
    async with sessions() as session:
        assert await facts_row(session, "3301") == (None, None, None, "nb")
        assert await audit_actions(session) == []


async def test_set_facts_checks_every_value_and_audits_the_change(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    actor = audit.Actor("staff:7", "web", None)
    with pytest.raises(FactsError) as refused:
        async with sessions.begin() as session:
            await set_facts(
                session, "4601",
                FactsForm(population="mange", kostra_group="K" * 21, region="", language="de"),
                actor, NOW,
            )  # fmt: skip
    assert [(p.column, p.kind) for p in refused.value.problems] == [
        ("population", "not_whole_number"),
        ("kostra_group", "too_long"),
        ("language", "bad_language"),
    ]
    assert refused.value.problems[0].reason_nb == "«mange» er ikke et helt tall"

    async with sessions.begin() as session:
        changes = await set_facts(
            session, "Bergen", FactsForm("291 940", " K14 ", "Vestland", "nn"), actor, NOW
        )
    assert [(c.column, c.after) for c in changes] == [
        ("population", 291940), ("kostra_group", "K14"), ("region", "Vestland"),
        ("language", "nn"),
    ]  # fmt: skip
    async with sessions() as session:
        found = await facts_of(session, "4601")
        assert (found.name, found.facts.population, found.facts.language_name) == (
            "Bergen", 291940, "nynorsk",
        )  # fmt: skip
        assert (await facts_by_code(session))["4601"] == found.facts
        assert await audit_actions(session) == [
            ("organisation.facts", "organisation:4601",
             {"population": {"before": None, "after": 291940},
              "kostra_group": {"before": None, "after": "K14"},
              "region": {"before": None, "after": "Vestland"},
              "language": {"before": "nb", "after": "nn"}}),
        ]  # fmt: skip

    async with sessions.begin() as session:  # the same again: no change, no entry
        assert await set_facts(session, "4601", FactsForm("291940", "K14", "Vestland", "nn"),
                               actor, NOW) == []  # fmt: skip
    async with sessions() as session:
        assert len(await audit_actions(session)) == 1
        with pytest.raises(FactsError) as unknown:
            await facts_of(session, "9999")
        assert unknown.value.problems[0].kind == "unknown_org"
