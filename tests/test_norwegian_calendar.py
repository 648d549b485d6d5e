"""Public holidays and blackout periods, pure: the lookup, quiet rules, moving dates, plan files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from dialogs.norwegian_calendar import Blackout, day_off, holiday_name, is_holiday, span_nb
from dialogs.reminders import DEFAULT_REMINDERS, QuietRules, reminder_times
from scheduler.plan import PlanError, load_plan_text
from scheduler.plan_moves import move_date
from tests.cycle_support import ZONE, oslo

FELLESFERIE = Blackout("Fellesferie", date(2027, 7, 1), date(2027, 7, 31))
JUL = Blackout("Jul og nyttår", date(2027, 12, 20), date(2028, 1, 3))
BUDSJETT = Blackout("Budsjettuker", date(2027, 10, 11), date(2027, 10, 22))
DEFAULT = QuietRules()


def wall(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%a %Y-%m-%d %H:%M")


# --- the holiday lookup ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 5, 17), "andre pinsedag og grunnlovsdag"),  # 17. mai is Whit Monday in 2027
        (date(2027, 5, 6), "Kristi himmelfartsdag"),  # 39 days after Easter Sunday 28 March
        (date(2027, 3, 29), "andre påskedag"),
        (date(2027, 3, 25), "skjærtorsdag"),
        (date(2027, 12, 26), "andre juledag"),
        (date(2028, 1, 1), "første nyttårsdag"),
        (date(2027, 5, 1), "arbeidernes dag"),
    ],
)
def test_norwegian_public_holidays_are_known_by_their_norwegian_names(day: date, name: str) -> None:
    assert is_holiday(day)
    assert holiday_name(day) == name


@pytest.mark.parametrize(
    "day",
    [
        date(2027, 5, 19),  # an ordinary Wednesday
        date(2027, 1, 3),  # an ordinary Sunday: the library would count it, asked to
        date(2027, 12, 24),  # julaften is not a public holiday
        date(2027, 5, 18),
    ],
)
def test_ordinary_days_and_ordinary_sundays_are_not_holidays(day: date) -> None:
    assert not is_holiday(day)
    assert holiday_name(day) is None


def test_day_off_names_blackouts_first_then_weekends_then_holidays() -> None:
    assert day_off(date(2027, 5, 17)) == "helligdag (andre pinsedag og grunnlovsdag)"
    assert day_off(date(2027, 5, 17), holidays=True) is None
    assert day_off(date(2027, 5, 1)) == "helg"  # a Saturday that is also 1. mai
    assert day_off(date(2027, 5, 1), weekends=True) == "helligdag (arbeidernes dag)"
    assert day_off(date(2027, 7, 14), blackouts=(FELLESFERIE,)) == "Fellesferie (1.–31. juli)"
    assert day_off(date(2027, 7, 14), weekends=True, holidays=True, blackouts=(FELLESFERIE,))
    assert day_off(date(2027, 5, 19)) is None


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (date(2027, 7, 1), date(2027, 7, 31), "1.–31. juli"),
        (date(2027, 6, 28), date(2027, 7, 2), "28. juni–2. juli"),
        (date(2027, 12, 20), date(2028, 1, 3), "20. desember 2027–3. januar 2028"),
        (date(2027, 5, 17), date(2027, 5, 17), "17. mai"),
    ],
)
def test_periods_are_written_the_norwegian_way(first: date, last: date, text: str) -> None:
    assert span_nb(first, last) == text


# --- quiet rules know holidays and blackouts --------------------------------------------------


def test_holidays_are_quiet_like_weekends_unless_allowed() -> None:
    may17 = oslo("2027-05-17 10:00")
    assert not DEFAULT.allows(may17, ZONE)
    assert replace(DEFAULT, holidays=True).allows(may17, ZONE)
    assert DEFAULT.next_allowed(may17, ZONE) == oslo("2027-05-18 08:00")
    # Langfredag to 2. påskedag: Friday, the weekend and Monday are all off.
    assert wall(DEFAULT.next_allowed(oslo("2027-03-26 10:00"), ZONE)) == "Tue 2027-03-30 08:00"
    assert DEFAULT.allows(oslo("2027-05-19 10:00"), ZONE)


def test_a_blackout_holds_everything_until_the_next_allowed_morning() -> None:
    rules = QuietRules(blackouts=(FELLESFERIE,))
    assert not rules.allows(oslo("2027-07-14 12:00"), ZONE)
    # 31 July is a Saturday: the first allowed moment is Monday 2 August at 08:00.
    assert rules.next_allowed(oslo("2027-07-14 12:00"), ZONE) == oslo("2027-08-02 08:00")
    long = QuietRules(blackouts=(Blackout("Langt", date(2027, 1, 1), date(2027, 12, 31)),))
    assert long.next_allowed(oslo("2027-01-01 12:00"), ZONE) == oslo("2028-01-03 08:00")


def test_stored_rules_keep_holidays_and_blackouts_and_old_rounds_read_as_quiet() -> None:
    rules = QuietRules(holidays=True, blackouts=(FELLESFERIE, JUL))
    stored = rules.to_json()
    assert stored["holidays"] == "allowed"
    assert stored["blackouts"][1] == {
        "name": "Jul og nyttår",
        "from": "2027-12-20",
        "to": "2028-01-03",
    }
    assert QuietRules.from_json(stored) == rules
    # A round stored before holidays existed: holidays are quiet, and the default rules
    # are stored as before, so a plan applied again finds nothing changed.
    assert QuietRules.from_json({"quiet_hours": "21:00-08:00", "weekends": False}) == DEFAULT
    assert DEFAULT.to_json() == {"quiet_hours": "21:00-08:00", "weekends": False}


def test_quiet_rules_describe_holidays_and_blackouts() -> None:
    assert QuietRules(blackouts=(FELLESFERIE,)).describe() == (
        "ikke 21.00–08.00, ikke i helgene, ikke på helligdager, ikke i Fellesferie (1.–31. juli)"
    )
    assert QuietRules(holidays=True).describe() == "ikke 21.00–08.00, ikke i helgene"


def test_reminders_skip_holidays_and_fold_when_a_blackout_holds_them() -> None:
    # Closes Wednesday 19 May: 2 days before is 17. mai (Monday) -> Tuesday 08:00.
    moments = reminder_times(
        DEFAULT_REMINDERS,
        opens_at=oslo("2027-05-03 09:00"),
        closes_at=oslo("2027-05-19 23:59"),
        quiet=DEFAULT,
        zone=ZONE,
    )
    assert [wall(m) for m in moments] == [
        "Wed 2027-05-12 09:00",
        "Tue 2027-05-18 08:00",
        "Wed 2027-05-19 09:00",
    ]
    assert all(not is_holiday(m.astimezone(ZONE).date()) for m in moments)
    # Closes Tuesday 3 August after Fellesferie: 7 and 2 days before fall in it and are
    # held to Monday 2 August 08:00, as one reminder.
    held = reminder_times(
        DEFAULT_REMINDERS,
        opens_at=oslo("2027-06-14 09:00"),
        closes_at=oslo("2027-08-03 23:59"),
        quiet=QuietRules(blackouts=(FELLESFERIE,)),
        zone=ZONE,
    )
    assert [wall(m) for m in held] == ["Mon 2027-08-02 08:00", "Tue 2027-08-03 09:00"]


def test_a_reminder_held_onto_a_day_with_its_own_reminder_folds_into_it() -> None:
    # Closes Monday 2 August: 7 days before (26 July) and 2 days before (31 July) are in
    # the blackout; Monday 08:00 would come an hour before the last day's 09:00 reminder.
    held = reminder_times(
        DEFAULT_REMINDERS,
        opens_at=oslo("2027-06-14 09:00"),
        closes_at=oslo("2027-08-02 23:59"),
        quiet=QuietRules(blackouts=(FELLESFERIE,)),
        zone=ZONE,
    )
    assert [wall(m) for m in held] == ["Mon 2027-08-02 09:00"]


# --- moving openings and deadlines -------------------------------------------------------------


def test_an_opening_on_17_mai_moves_to_the_18th_at_the_same_time() -> None:
    moved, why = move_date(oslo("2027-05-17 09:00"), DEFAULT, ZONE)
    assert moved == oslo("2027-05-18 09:00")
    assert why == ("helligdag (andre pinsedag og grunnlovsdag)",)
    assert move_date(oslo("2027-05-17 09:00"), replace(DEFAULT, holidays=True), ZONE) == (
        oslo("2027-05-17 09:00"),
        (),
    )


def test_a_deadline_in_fellesferie_moves_past_it_and_past_the_weekend_after() -> None:
    rules = QuietRules(blackouts=(FELLESFERIE, JUL, BUDSJETT))
    moved, why = move_date(oslo("2027-07-15 23:59"), rules, ZONE)
    assert wall(moved) == "Mon 2027-08-02 23:59"
    assert why == ("Fellesferie (1.–31. juli)", "helg")
    # A blackout ending on a Friday: the next working day is Monday.
    moved, why = move_date(oslo("2027-10-20 12:00"), rules, ZONE)
    assert wall(moved) == "Mon 2027-10-25 12:00"
    # Across the new year, with 1 January a holiday on the way (inside the period here).
    moved, _ = move_date(oslo("2027-12-22 23:59"), rules, ZONE)
    assert wall(moved) == "Tue 2028-01-04 23:59"


def test_chains_a_moved_date_landing_on_a_weekend_or_holiday_moves_again() -> None:
    # Langfredag 2027 -> Saturday, Sunday (weekend) -> 2. påskedag -> Tuesday.
    moved, why = move_date(oslo("2027-03-26 10:00"), DEFAULT, ZONE)
    assert wall(moved) == "Tue 2027-03-30 10:00"
    assert why == ("helligdag (langfredag)", "helg", "helligdag (andre påskedag)")
    # With weekends allowed, only the holidays are skipped.
    moved, _ = move_date(oslo("2027-03-26 10:00"), replace(DEFAULT, weekends=True), ZONE)
    assert wall(moved) == "Sat 2027-03-27 10:00"


def test_an_ordinary_weekend_does_not_move_a_date() -> None:
    saturday = oslo("2027-01-16 10:00")
    assert move_date(saturday, DEFAULT, ZONE) == (saturday, ())
    assert move_date(oslo("2027-05-01 10:00"), DEFAULT, ZONE)[1] == ()  # Saturday 1. mai


# --- the plan file -----------------------------------------------------------------------------

PLAN = """\
name: Kalender
blackouts:
  - name: Fellesferie
    from: 2027-07-01
    to: 2027-07-31
  - name: Jul og nyttår
    from: 2027-12-20
    to: 2028-01-03
  - name: Budsjettuker
    from: 2027-10-11
    to: 2027-10-22
defaults:
  survey: kvartalsvis-behov
rounds:
  - key: mai
    opens: 2027-05-17 09:00
    closes: 2027-06-04
  - key: sommer
    opens: 2027-06-14 09:00
    closes: 2027-07-01
  - key: fri
    opens: 2027-05-17 09:00
    closes: 2027-06-04
    holidays: allowed
"""


def test_a_plan_moves_dates_and_says_what_moved_and_why_in_norwegian() -> None:
    plan = load_plan_text(PLAN, "plan.yaml", ZONE)
    mai, sommer, fri = plan.rounds
    assert mai.opens_at == oslo("2027-05-18 09:00") and mai.written_opens_at == oslo(
        "2027-05-17 09:00"
    )
    assert [m.describe(ZONE) for m in mai.moves] == [
        "Åpning flyttet fra mandag 17. mai 2027 kl. 09.00 til tirsdag 18. mai 2027 kl. 09.00: "
        "helligdag (andre pinsedag og grunnlovsdag)"
    ]
    assert sommer.closes_at == oslo("2027-08-02 23:59")
    assert [m.describe(ZONE) for m in sommer.moves] == [
        "Frist flyttet fra torsdag 1. juli 2027 kl. 23.59 til mandag 2. august 2027 kl. 23.59: "
        "Fellesferie (1.–31. juli), deretter helg",
        "Påminnelse 7 dager før frist kl. 09.00 (mandag 26. juli 2027 kl. 09.00) sendes ikke: "
        "Fellesferie (1.–31. juli), og en annen påminnelse går ut samme dag",
        "Påminnelse 2 dager før frist kl. 09.00 (lørdag 31. juli 2027 kl. 09.00) sendes ikke: "
        "Fellesferie (1.–31. juli), og en annen påminnelse går ut samme dag",
    ]
    # The round keeps the blackouts that touch it, so the cycle holds what falls in them.
    assert sommer.quiet.blackouts == (FELLESFERIE,) and mai.quiet.blackouts == ()
    assert fri.opens_at == oslo("2027-05-17 09:00") and fri.moves == ()
    assert fri.quiet.holidays is True and mai.quiet.holidays is False
    assert plan.blackouts == (FELLESFERIE, JUL, BUDSJETT)


def test_a_reminder_moved_off_a_holiday_is_reported() -> None:
    text = (
        PLAN.split("  - key: sommer")[0]
        .replace("opens: 2027-05-17 09:00", "opens: 2027-05-03 09:00")
        .replace("closes: 2027-06-04", "closes: 2027-05-19")
    )
    (mai,) = load_plan_text(text, "plan.yaml", ZONE).rounds
    assert [m.describe(ZONE) for m in mai.moves] == [
        "Påminnelse 2 dager før frist kl. 09.00 flyttet fra mandag 17. mai 2027 kl. 09.00 til "
        "tirsdag 18. mai 2027 kl. 08.00: helligdag (andre pinsedag og grunnlovsdag)"
    ]


def test_holidays_can_be_allowed_in_defaults() -> None:
    text = PLAN.replace(
        "  survey: kvartalsvis-behov\n", "  survey: kvartalsvis-behov\n  holidays: allowed\n"
    )
    rounds = load_plan_text(text, "plan.yaml", ZONE).rounds
    assert all(r.quiet.holidays for r in rounds)
    assert "holidays" in rounds[0].inherited


def test_an_opening_moved_past_its_deadline_is_an_error_on_its_line() -> None:
    text = PLAN.replace(
        "opens: 2027-06-14 09:00\n    closes: 2027-07-01",
        "opens: 2027-07-05 09:00\n    closes: 2027-07-20 08:00",
    )
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, "plan.yaml", ZONE)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (19, "rounds[1].opens")
    assert "would move to Monday 2027-08-02 09:00 (Europe/Oslo)" in problem.message
    assert "Fellesferie" in problem.message


@pytest.mark.parametrize(
    ("blackouts", "line", "field", "fragment"),
    [
        ("  - name: Ferie\n    from: 2027-07-31\n    to: 2027-07-01\n", 4, "blackouts[0].to", "is before from (2027-07-31)"),
        ("  - name: Ferie\n    from: 2027-07-01\n    to: 2027-07-31\n    why: sol\n", 5, "blackouts[0].why", "unknown field; known: name, from, to"),
        ("  - name: Ferie\n    from: 2027-07-01\n    til: 2027-07-31\n", 4, "blackouts[0].til", "unknown field"),
        ("  - from: 2027-07-01\n    to: 2027-07-31\n", 2, "blackouts[0].name", "missing"),
        ("  - name: Ferie\n    from: 2027-07-01 09:00\n    to: 2027-07-31\n", 3, "blackouts[0].from", "whole days, no time of day"),
        ("  - name: Ferie\n    from: 2027-02-30\n    to: 2027-07-31\n", 3, "blackouts[0].from", "no such date"),
        ("  - name: Ferie\n    from: 2027-07-01\n", 2, "blackouts[0].to", "missing"),
        ("  - name: Ferie\n    from: 2027-01-01\n    to: 2028-12-31\n", 4, "blackouts[0].to", "at most 366 days"),
        ("  name: Ferie\n", 1, "blackouts", "must be a list"),
        ("  - Fellesferie\n", 2, "blackouts[0]", "a blackout period is a mapping"),
    ],
)  # fmt: skip
def test_blackout_problems_are_reported_with_their_lines(
    blackouts: str, line: int, field: str, fragment: str
) -> None:
    text = "blackouts:\n" + blackouts + "defaults:\n" + PLAN.split("defaults:\n", 1)[1]
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, "plan.yaml", ZONE)
    found = [(p.line, p.field, p.message) for p in caught.value.problems]
    assert any((at, f) == (line, field) and fragment in m for at, f, m in found), found


def test_overlapping_blackouts_are_fine() -> None:
    text = PLAN.replace(
        "    from: 2027-10-11\n", "    from: 2027-07-20\n"
    )  # Budsjettuker now overlaps Fellesferie
    plan = load_plan_text(text, "plan.yaml", ZONE)
    assert plan.blackouts[2].first == date(2027, 7, 20)


@pytest.mark.parametrize("written", ["sometimes", "true", "ja"])
def test_holidays_take_quiet_or_allowed(written: str) -> None:
    text = PLAN.replace("holidays: allowed", f"holidays: {written}")
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, "plan.yaml", ZONE)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (24, "rounds[2].holidays")
    assert "write quiet" in problem.message and "or allowed" in problem.message
