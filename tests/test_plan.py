"""Annual plan files: the shipped example, defaults, and every rule with its line and field."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialogs.reminders import DEFAULT_REMINDERS, QuietRules, ReminderRule
from scheduler.plan import Plan, PlanError, PlannedRound, load_plan_file, load_plan_text
from services.rounds import Audience

OSLO = ZoneInfo("Europe/Oslo")
EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "arshjul-2027.yaml"
BASE = {
    "key": "a",  # line 2
    "survey": "kvartalsvis-behov",  # line 3
    "opens": "2027-01-11 09:00",  # line 4 (a Monday)
    "closes": "2027-01-29",  # line 5 (a Friday)
}  # fields added by a test start on line 6

Found = list[tuple[int | None, str, str]]


def load(text: str) -> Plan:
    return load_plan_text(textwrap.dedent(text), "plan.yaml", OSLO)


def problems(text: str) -> Found:
    with pytest.raises(PlanError) as caught:
        load(text)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def one_round(**fields: str | None) -> str:
    """A one-round plan: BASE with ``fields`` replaced (None removes one), new ones last."""
    merged = {**BASE, **fields}
    lines = [f"{name}: {value}" for name, value in merged.items() if value is not None]
    return "rounds:\n  - " + "\n    ".join(lines) + "\n"


def only_round(**fields: str | None) -> PlannedRound:
    plan = load(one_round(**fields))
    assert len(plan.rounds) == 1
    return plan.rounds[0]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- the shipped example -----------------------------------------------------------------


def test_the_example_plan_loads_without_problems_or_warnings() -> None:
    plan = load_plan_file(EXAMPLE, OSLO)
    assert plan.name == "Årshjul 2027"
    assert plan.warnings == ()
    assert [r.key for r in plan.rounds] == ["2027-1", "2027-2", "2027-3", "2027-4"]
    assert {r.survey for r in plan.rounds} == {"kvartalsvis-behov"}
    assert {r.audience for r in plan.rounds} == {Audience()}
    assert all(r.reminders == DEFAULT_REMINDERS and r.quiet == QuietRules() for r in plan.rounds)
    assert all(r.title and r.title.startswith("Behovsinnhenting") for r in plan.rounds)


def test_the_example_times_are_utc_with_oslo_winter_and_summer_offsets() -> None:
    rounds = load_plan_file(str(EXAMPLE), OSLO).rounds
    # Winter (CET, +01:00): 09:00 is 08:00 UTC; a bare closing date is 23:59 local.
    assert rounds[0].opens_at == utc(2027, 1, 11, 8, 0)
    assert rounds[0].closes_at == utc(2027, 1, 29, 22, 59)
    # Summer (CEST, +02:00): 09:00 is 07:00 UTC.
    assert rounds[1].opens_at == utc(2027, 4, 12, 7, 0)
    assert rounds[2].closes_at == utc(2027, 10, 1, 21, 59)
    # Back to winter time after 31 October.
    assert rounds[3].opens_at == utc(2027, 11, 8, 8, 0)
    for planned in rounds:
        assert planned.opens_at.tzinfo == UTC and planned.closes_at.tzinfo == UTC
        local = planned.opens_at.astimezone(OSLO)
        assert local.weekday() == 0 and local.time() == time(9, 0)
        assert timedelta(days=17) < planned.closes_at - planned.opens_at < timedelta(days=22)


def test_the_example_avoids_easter_and_the_summer() -> None:
    easter = (datetime(2027, 3, 25, tzinfo=OSLO), datetime(2027, 3, 30, tzinfo=OSLO))
    summer = (datetime(2027, 6, 15, tzinfo=OSLO), datetime(2027, 8, 20, tzinfo=OSLO))
    for planned in load_plan_file(EXAMPLE, OSLO).rounds:
        for start, end in (easter, summer):
            assert planned.closes_at <= start or planned.opens_at >= end, planned.key


# --- values, defaults and built-ins --------------------------------------------------------


def test_a_minimal_round_gets_the_built_in_defaults() -> None:
    planned = only_round()
    assert planned.key == "a" and planned.title is None and planned.survey == "kvartalsvis-behov"
    assert planned.audience == Audience()
    assert planned.reminders == DEFAULT_REMINDERS
    assert planned.quiet == QuietRules()
    assert planned.line == 2 and planned.index == 0
    assert planned.inherited == frozenset()


def test_defaults_are_inherited_and_each_can_be_overridden() -> None:
    plan = load(
        """\
        name: Test
        defaults:
          survey: felles-behov
          audience: {county: "46"}
          reminders:
            - {before: 2h}
          quiet_hours: "off"
          weekends: yes
        rounds:
          - key: inherits
            opens: 2027-01-11 09:00
            closes: 2027-01-29
          - key: overrides
            survey: kvartalsvis-behov
            audience: {kind: kommune}
            reminders: [{days_before: 3, at: "10:30"}]
            quiet_hours: "22:00-07:00"
            weekends: No
            opens: 2027-01-11 09:00
            closes: 2027-01-29
        """
    )
    inherits, overrides = plan.rounds
    assert inherits.survey == "felles-behov"
    assert inherits.audience == Audience(county="46")
    assert inherits.reminders == (ReminderRule(before=timedelta(hours=2)),)
    assert inherits.quiet == QuietRules(quiet_start=None, quiet_end=None, weekends=True)
    assert inherits.inherited == {"survey", "audience", "reminders", "quiet_hours", "weekends"}
    assert inherits.field_lines["survey"] == 3 and inherits.field_lines["reminders[0]"] == 6
    assert overrides.survey == "kvartalsvis-behov"
    assert overrides.audience == Audience(kind="kommune")
    assert overrides.reminders == (ReminderRule(days_before=3, at=time(10, 30)),)
    assert overrides.quiet == QuietRules(quiet_start=time(22), quiet_end=time(7), weekends=False)
    assert overrides.inherited == frozenset()
    assert overrides.field_lines["survey"] == 14


def test_reminders_can_be_turned_off_with_an_empty_list() -> None:
    assert only_round(reminders="[]").reminders == ()
    plan = load("defaults:\n  reminders: []\n" + one_round())
    assert plan.rounds[0].reminders == ()


def test_a_round_can_turn_reminders_back_on_under_empty_defaults() -> None:
    plan = load("defaults:\n  reminders: []\n" + one_round(reminders='[{before: "1d"}]'))
    assert plan.rounds[0].reminders == (ReminderRule(before=timedelta(days=1)),)


@pytest.mark.parametrize(
    ("written", "span"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("36 h", timedelta(hours=36)),
    ],
)
def test_durations_parse(written: str, span: timedelta) -> None:
    assert only_round(reminders=f'[{{before: "{written}"}}]').reminders == (
        ReminderRule(before=span),
    )


def test_reminder_times_are_read_as_written_not_as_yaml_numbers() -> None:
    # Unquoted 09:00 would be the base-60 number 540 in YAML 1.1.
    planned = only_round(reminders="[{days_before: 07, at: 09:00}, {days_before: 0, at: 7:05}]")
    assert planned.reminders == (
        ReminderRule(days_before=7, at=time(9, 0)),
        ReminderRule(days_before=0, at=time(7, 5)),
    )


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("all", Audience()),
        ("ALL", Audience()),
        ("{county: 3}", Audience(county="03")),
        ('{county: "46"}', Audience(county="46")),
        ("{kind: fylkeskommune}", Audience(kind="fylkeskommune")),
        ("{orgs: [3301, 0301, 46]}", Audience(org_codes=("3301", "0301", "46"))),
        ('{orgs: "3301, 0301,3301"}', Audience(org_codes=("3301", "0301"))),
    ],
)
def test_audience_forms(audience: str, expected: Audience) -> None:
    assert only_round(audience=audience).audience == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [("true", True), ("Yes", True), ("FALSE", False), ("no", False)],
)
def test_booleans_accept_true_false_yes_no(written: str, expected: bool) -> None:
    assert only_round(weekends=written).quiet.weekends is expected


def test_quiet_hours_forms() -> None:
    assert only_round(quiet_hours="OFF").quiet == QuietRules(quiet_start=None, quiet_end=None)
    assert only_round(quiet_hours='"22:00 - 6:30"').quiet == QuietRules(
        quiet_start=time(22), quiet_end=time(6, 30)
    )
    assert only_round(quiet_hours="'12:00-13:00'").quiet.quiet_start == time(12)


def test_date_and_time_forms() -> None:
    planned = only_round(opens="2027-01-11T09:30", closes="2027-01-29 12:00", title=" Q1 ")
    assert planned.opens_at == utc(2027, 1, 11, 8, 30)
    assert planned.closes_at == utc(2027, 1, 29, 11, 0)
    assert planned.title == "Q1"
    assert only_round(opens="2027-01-11").opens_at == utc(2027, 1, 11, 7, 0)  # 08:00 local


def test_a_real_time_on_a_dst_day_is_fine() -> None:
    planned = only_round(opens="2027-03-28 03:00", closes="2027-10-31 03:00")
    assert planned.opens_at == utc(2027, 3, 28, 1, 0)  # already CEST
    assert planned.closes_at == utc(2027, 10, 31, 2, 0)  # back to CET


# --- problems: line and field -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "line", "field", "message"),
    [
        ({"key": "Q 1"}, 2, "rounds[0].key", "use 1-60 of a-z"),
        ({"key": None}, 2, "rounds[0].key", "missing"),
        ({"key": "'-x'"}, 2, "rounds[0].key", "starting with a letter or digit"),
        ({"title": "''"}, 6, "rounds[0].title", "is empty"),
        ({"title": "x" * 201}, 6, "rounds[0].title", "201 characters long; at most 200"),
        ({"titel": "Q1"}, 6, "rounds[0].titel", "unknown field; did you mean title?"),
        ({"survey": "Kvartal"}, 3, "rounds[0].survey", "not a survey key"),
        ({"survey": None}, 2, "rounds[0].survey", "missing: name the survey"),
        ({"survey": ""}, 3, "rounds[0].survey", "has no value"),
        ({"opens": "11.01.2027 09:00"}, 4, "rounds[0].opens", "2027-01-11T09:00"),
        ({"opens": "2027-02-30"}, 4, "rounds[0].opens", "no such date"),
        ({"opens": "2027-01-11 25:00"}, 4, "rounds[0].opens", "no such time of day"),
        ({"opens": "2027-01-11T09:00+01:00"}, 4, "rounds[0].opens", "leave out the UTC offset"),
        ({"opens": "2027-01-11 09:00Z"}, 4, "rounds[0].opens", "leave out the UTC offset"),
        ({"opens": "[2027-01-11]"}, 4, "rounds[0].opens", "not a list"),
        ({"opens": None}, 2, "rounds[0].opens", "missing"),
        ({"closes": "2027-01-11 09:00"}, 5, "rounds[0].closes", "must be after the round opens"),
        ({"closes": "2027-01-04"}, 5, "rounds[0].closes", "Monday 2027-01-11 09:00"),
        ({"audience": "everyone"}, 6, "rounds[0].audience", "'everyone': write all"),
        ({"audience": "[all]"}, 6, "rounds[0].audience", "write all, {county"),
        ({"audience": "{county: 4x}"}, 6, "rounds[0].audience.county", "1-2 digits"),
        ({"audience": "{county: 460}"}, 6, "rounds[0].audience.county", "1-2 digits"),
        ({"audience": "{county: 46, kind: kommune}"}, 6, "rounds[0].audience", "exactly one"),
        ({"audience": "{}"}, 6, "rounds[0].audience", "exactly one"),
        ({"audience": "{kind: bydel}"}, 6, "rounds[0].audience.kind", "fylkeskommune or kommune"),
        ({"audience": "{orgs: []}"}, 6, "rounds[0].audience.orgs", "lists no organisations"),
        ({"audience": "{orgs: ' , '}"}, 6, "rounds[0].audience.orgs", "lists no organisations"),
        ({"audience": "{orgs: [3301, 123]}"}, 6, "rounds[0].audience.orgs[1]", "'123' is not"),
        ({"audience": "{orgs: '3301, 12345'}"}, 6, "rounds[0].audience.orgs", "'12345' is not"),
        ({"audience": "{region: vest}"}, 6, "rounds[0].audience.region", "unknown field"),
        ({"reminders": "{days_before: 7}"}, 6, "rounds[0].reminders", "must be a list"),
        ({"reminders": "[7]"}, 6, "rounds[0].reminders[0]", "a reminder is {days_before"),
        (
            {"reminders": "[{days_before: 7, at: '09:00', before: 2h}]"},
            6,
            "rounds[0].reminders[0]",
            "not both",
        ),
        ({"reminders": "[{}]"}, 6, "rounds[0].reminders[0]", "needs days_before + at, or before"),
        ({"reminders": "[{days_before: 7}]"}, 6, "rounds[0].reminders[0].at", "missing"),
        ({"reminders": "[{at: '09:00'}]"}, 6, "rounds[0].reminders[0].days_before", "missing"),
        (
            {"reminders": "[{days_before: 61, at: '09:00'}]"},
            6,
            "rounds[0].reminders[0].days_before",
            "from 0 to 60",
        ),
        (
            {"reminders": "[{days_before: -1, at: '09:00'}]"},
            6,
            "rounds[0].reminders[0].days_before",
            "from 0 to 60",
        ),
        (
            {"reminders": "[{days_before: 7, at: '9.00'}]"},
            6,
            "rounds[0].reminders[0].at",
            "not a time of day",
        ),
        (
            {"reminders": "[{days_before: 7, at: '24:00'}]"},
            6,
            "rounds[0].reminders[0].at",
            "not a time of day",
        ),
        (
            {"reminders": "[{days_before: 7, time: '09:00'}]"},
            6,
            "rounds[0].reminders[0].time",
            "unknown field",
        ),
        ({"reminders": "[{before: 2 hours}]"}, 6, "rounds[0].reminders[0].before", "duration"),
        ({"reminders": "[{before: -2h}]"}, 6, "rounds[0].reminders[0].before", "duration"),
        ({"reminders": "[{before: 1.5h}]"}, 6, "rounds[0].reminders[0].before", "duration"),
        ({"reminders": "[{before: 0m}]"}, 6, "rounds[0].reminders[0].before", "longer than zero"),
        ({"quiet_hours": "21-08"}, 6, "rounds[0].quiet_hours", '"21:00-08:00", or "off"'),
        ({"quiet_hours": "'21:00-25:00'"}, 6, "rounds[0].quiet_hours", '"21:00-08:00"'),
        (
            {"quiet_hours": "'08:00-08:00'"},
            6,
            "rounds[0].quiet_hours",
            "start and end are the same",
        ),
        ({"weekends": "maybe"}, 6, "rounds[0].weekends", "write true or false"),
        ({"weekends": "1"}, 6, "rounds[0].weekends", "write true or false"),
        ({"closes_at": "2027-01-29"}, 6, "rounds[0].closes_at", "did you mean closes"),
    ],
)
def test_each_rule_names_its_line_and_field(
    fields: dict[str, str | None], line: int, field: str, message: str
) -> None:
    found = problems(one_round(**fields))
    assert any(
        (found_line, found_field) == (line, field) and message in text
        for found_line, found_field, text in found
    ), found


def test_times_that_daylight_saving_skips_or_repeats_are_refused() -> None:
    found = problems(one_round(opens="2027-03-28 02:30", closes="2027-10-31 02:30"))
    assert found == [
        (
            4,
            "rounds[0].opens",
            "2027-03-28 02:30 does not exist in Europe/Oslo (the clocks go forward); "
            "choose another time",
        ),
        (
            5,
            "rounds[0].closes",
            "2027-10-31 02:30 happens twice in Europe/Oslo (the clocks go back); "
            "choose another time",
        ),
    ]


def test_the_file_must_be_a_mapping() -> None:
    assert problems("- key: a\n") == [
        (1, "", "a plan file is a mapping (name:, defaults:, rounds:)")
    ]


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("name: x\n", 1, "rounds", "missing: the file needs a list of rounds"),
        ("rounds: []\n", 1, "rounds", "no rounds"),
        ("rounds: {key: a}\n", 1, "rounds", "must be a list"),
        ("rounds:\n  - 2027-1\n", 2, "rounds[0]", "a round is a mapping"),
        ("name:\nrounds: []\n", 1, "name", "has no value"),
        ("round: []\n", 1, "round", "did you mean rounds?"),
        ("year: 2027\n" + one_round(), 1, "year", "known: name, blackouts, defaults, rounds"),
        ("defaults: kvartalsvis-behov\n" + one_round(), 1, "defaults", "must be a mapping"),
        (
            "defaults:\n  opens: 2027-01-11\n" + one_round(),
            2,
            "defaults.opens",
            "cannot be a default",
        ),
        ("defaults:\n  surveys: x\n" + one_round(), 2, "defaults.surveys", "did you mean survey"),
        ("defaults:\n  weekends: ja\n" + one_round(), 2, "defaults.weekends", "true or false"),
    ],
)
def test_file_level_rules(text: str, line: int, field: str, message: str) -> None:
    found = problems(text)
    assert any(
        (found_line, found_field) == (line, field) and message in found_message
        for found_line, found_field, found_message in found
    ), found


def test_a_duplicate_yaml_key_is_refused() -> None:
    found = problems(one_round(closes="2027-01-29\n    closes: 2027-01-30"))
    assert (6, "rounds[0].closes", "duplicate key") in found


def test_a_duplicate_round_key_points_at_the_second_round() -> None:
    text = one_round() + "  - key: a\n    opens: 2027-04-12\n    closes: 2027-04-30\n"
    text = text.replace("rounds:\n", "defaults: {survey: kvartalsvis-behov}\nrounds:\n")
    found = problems(text)
    assert found == [
        (7, "rounds[1].key", "duplicate round key 'a'; rounds[0] (line 3) has it too"),
    ]


def test_a_bad_default_is_reported_once_not_per_round() -> None:
    found = problems(
        """\
        defaults:
          survey: Kvartal
        rounds:
          - {key: a, opens: 2027-01-11, closes: 2027-01-29}
          - {key: b, opens: 2027-04-12, closes: 2027-04-30}
          - {key: c, survey: kvartalsvis-behov, opens: 2027-09-13, closes: 2027-09-10}
        """
    )
    assert [(line, field) for line, field, _ in found] == [
        (2, "defaults.survey"),
        (6, "rounds[2].closes"),
    ]


def test_yaml_syntax_errors_and_empty_files_are_plan_errors() -> None:
    with pytest.raises(PlanError, match=r"plan.yaml:\d+: \(file\): invalid YAML") as caught:
        load("rounds:\n  - {key: a\n")
    assert caught.value.problems[0].line is not None
    with pytest.raises(PlanError, match="the file is empty"):
        load("# nothing yet\n")


def test_an_unreadable_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the file") as caught:
        load_plan_file(tmp_path / "missing.yaml", OSLO)
    assert caught.value.problems[0].file.endswith("missing.yaml")


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = """\
        name: Årshjul
        defaults:
          quiet_hours: late
        rounds:
          - key: 2027-1
            survey: kvartalsvis-behov
            opens: 2027-01-11 09:00
            closes: 2027-01-01
          - key: 2027-1
            survey: kvartalsvis-behov
            opens: 2027-03-28 02:15
            closes: 2027-04-30
            reminders:
              - {days_before: 7, at: "9"}
              - {before: 2w}
          - key: 2027-3
            opens: 2027-09-13
            closes: 2027-10-01
            colour: blue
        """
    with pytest.raises(PlanError) as caught:
        load(text)
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "defaults.quiet_hours"),
        (8, "rounds[0].closes"),
        (9, "rounds[1].key"),
        (11, "rounds[1].opens"),
        (14, "rounds[1].reminders[0].at"),
        (15, "rounds[1].reminders[1].before"),
        (16, "rounds[2].survey"),
        (19, "rounds[2].colour"),
    ]
    message = str(caught.value)
    assert message.splitlines()[1] == (
        "plan.yaml:8: rounds[0].closes: must be after the round opens, "
        "Monday 2027-01-11 09:00 (Europe/Oslo)"
    )


# --- warnings --------------------------------------------------------------------------------


def test_an_opening_in_quiet_hours_warns_when_invitations_go_out() -> None:
    plan = load(one_round(opens="2027-01-11 22:00"))
    assert len(plan.rounds) == 1
    assert [(w.line, w.field, w.message) for w in plan.warnings] == [
        (
            4,
            "rounds[0].opens",
            "opens Monday 2027-01-11 22:00 (Europe/Oslo), in quiet hours (21:00-08:00): "
            "invitations wait until Tuesday 2027-01-12 08:00 (Europe/Oslo)",
        )
    ]


def test_an_opening_on_a_weekend_warns_unless_weekends_are_allowed() -> None:
    plan = load(one_round(opens="2027-01-16 10:00"))
    assert [w.message for w in plan.warnings] == [
        "opens Saturday 2027-01-16 10:00 (Europe/Oslo), on a weekend (weekends: false): "
        "invitations wait until Monday 2027-01-18 08:00 (Europe/Oslo)"
    ]
    assert load(one_round(opens="2027-01-16 10:00", weekends="true")).warnings == ()


def test_both_reasons_are_named_and_quiet_hours_can_be_off() -> None:
    plan = load(one_round(opens="2027-01-16 23:00"))
    assert "on a weekend (weekends: false) and in quiet hours (21:00-08:00)" in (
        plan.warnings[0].message
    )
    assert load(one_round(opens="2027-01-12 23:00", quiet_hours="off")).warnings == ()


def test_a_round_no_one_could_be_invited_to_is_an_error() -> None:
    found = problems(one_round(opens="2027-01-16 10:00", closes="2027-01-17 20:00"))
    assert len(found) == 1
    line, field, message = found[0]
    assert (line, field) == (4, "rounds[0].opens")
    assert "no one would be invited" in message and "Sunday 2027-01-17 20:00" in message


def test_reminders_outside_the_round_are_warned_about() -> None:
    plan = load(one_round(opens="2027-01-25 09:00", reminders="[{before: 30d}, {before: 2h}]"))
    assert [(w.line, w.field) for w in plan.warnings] == [(6, "rounds[0].reminders[0]")]
    assert "the reminder 30d before closing would go out" in plan.warnings[0].message
    assert plan.rounds[0].reminders[1] == ReminderRule(before=timedelta(hours=2))


def test_a_reminder_warning_from_defaults_points_at_the_defaults() -> None:
    text = "defaults:\n  reminders:\n    - {days_before: 7, at: '09:00'}\n" + one_round(
        opens="2027-01-25 09:00"
    )
    (warning,) = load(text).warnings
    assert (warning.line, warning.field) == (3, "defaults.reminders[0]")
    assert "7 days before closing at 09:00" in warning.message
    assert warning.message.endswith("(used by rounds[0])")


# --- errors found later, against the database ------------------------------------------------


def test_planned_round_problems_point_at_the_written_line() -> None:
    plan = load(
        """\
        defaults:
          survey: kvartalsvis-behov
        rounds:
          - key: a
            opens: 2027-01-11
            closes: 2027-01-29
            audience:
              orgs:
                - "3301"
                - "9999"
        """
    )
    planned = plan.rounds[0]
    assert planned.field_lines["audience.orgs[1]"] == 10
    unknown = planned.problem(plan.source, "audience.orgs[1]", "unknown organisation code")
    assert str(unknown) == "plan.yaml:10: rounds[0].audience.orgs[1]: unknown organisation code"
    survey = planned.problem(plan.source, "survey", "unknown survey")
    assert str(survey) == "plan.yaml:2: defaults.survey: unknown survey (used by rounds[0])"
    whole = planned.problem(plan.source, "", "overlaps round b")
    assert (whole.line, whole.field) == (4, "rounds[0]")
    built_in = planned.problem(plan.source, "reminders", "x")
    assert (built_in.line, built_in.field) == (4, "rounds[0].reminders")


def test_times_may_have_seconds() -> None:
    plan = load_plan_text(
        "rounds:\n  - key: k\n    survey: kvartalsvis-behov\n    opens: 2027-01-11 09:00:30\n"
        "    closes: 2027-01-11T09:05:15\n    reminders: []\n",
        "plan.yaml",
        OSLO,
    )
    assert plan.rounds[0].opens_at == datetime(2027, 1, 11, 8, 0, 30, tzinfo=UTC)
    assert plan.rounds[0].closes_at == datetime(2027, 1, 11, 8, 5, 15, tzinfo=UTC)


def test_retention_months_default_from_defaults_and_checked() -> None:
    assert only_round().retention_months == 24
    assert only_round(retention_months="36").retention_months == 36
    plan = load(
        "defaults:\n  retention_months: 12\nrounds:\n  - "
        + "\n    ".join(f"{k}: {v}" for k, v in BASE.items())
        + "\n"
    )
    assert plan.rounds[0].retention_months == 12
    for bad in ("0", "121", "two", "[1]"):
        [(line, field, message)] = problems(one_round(retention_months=bad))
        assert (line, field) == (6, "rounds[0].retention_months"), message
    assert "from 1 to 120" in problems(one_round(retention_months="0"))[0][2]
