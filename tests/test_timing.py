"""Reminder plans, quiet hours, DST and the scheduler triggers derived from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.reminders import (
    DEFAULT_REMINDERS,
    QuietRules,
    ReminderRule,
    local_moment,
    local_time_problem,
    reminder_times,
)
from scheduler.timing import RoundTiming, due_reminder, next_step, round_triggers

OSLO = ZoneInfo("Europe/Oslo")

DEFAULT_QUIET = QuietRules()
WEEKENDS_ON = QuietRules(weekends=True)
HOLIDAYS_ON = QuietRules(holidays=True)
ANY_DAY = QuietRules(weekends=True, holidays=True)  # Easter 2027 is also the DST weekend
NO_QUIET_HOURS = QuietRules(quiet_start=None, quiet_end=None)
ANY_TIME = QuietRules(quiet_start=None, quiet_end=None, weekends=True)
LUNCH_QUIET = QuietRules(quiet_start=time(12, 0), quiet_end=time(13, 0), weekends=True)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Oslo as aware UTC (first occurrence of a repeated time)."""
    return datetime(year, month, day, hour, minute, tzinfo=OSLO).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wall(moment: datetime) -> str:
    """How a moment reads on an Oslo clock, e.g. ``Fri 2027-01-15 09:00``."""
    return moment.astimezone(OSLO).strftime("%a %Y-%m-%d %H:%M")


def is_utc(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def plan(
    rules: tuple[ReminderRule, ...] | list[ReminderRule],
    opens_at: datetime,
    closes_at: datetime,
    quiet: QuietRules = DEFAULT_QUIET,
) -> list[str]:
    moments = reminder_times(rules, opens_at=opens_at, closes_at=closes_at, quiet=quiet, zone=OSLO)
    assert all(is_utc(moment) for moment in moments)
    return [wall(moment) for moment in moments]


def before(**span: float) -> ReminderRule:
    return ReminderRule(before=timedelta(**span))


def on_day(days_before: int, hour: int, minute: int = 0) -> ReminderRule:
    return ReminderRule(days_before=days_before, at=time(hour, minute))


# A two-week round: opens Monday 11 January 2027 09:00, closes Friday 22 January 16:00.
OPENS = oslo(2027, 1, 11, 9)
CLOSES = oslo(2027, 1, 22, 16)


def timing(**changes: object) -> RoundTiming:
    base = RoundTiming(
        round_id=7,
        status="open",
        paused=False,
        opens_at=OPENS,
        closes_at=CLOSES,
        invitations_queued=True,
        reminders=DEFAULT_REMINDERS,
        quiet=DEFAULT_QUIET,
        last_reminder_for=None,
        closed_notices_done=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- ReminderRule -------------------------------------------------------------------


def test_reminder_rule_accepts_the_calendar_form_and_the_duration_form() -> None:
    calendar = on_day(7, 9)
    duration = before(hours=3)
    assert (calendar.days_before, calendar.at, calendar.before) == (7, time(9, 0), None)
    assert (duration.days_before, duration.at, duration.before) == (None, None, timedelta(hours=3))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"days_before": 7},
        {"at": time(9, 0)},
        {"days_before": 7, "at": time(9, 0), "before": timedelta(hours=1)},
        {"days_before": 7, "before": timedelta(hours=1)},
        {"at": time(9, 0), "before": timedelta(hours=1)},
    ],
    ids=["nothing", "days-only", "at-only", "both-forms", "days-and-before", "at-and-before"],
)
def test_reminder_rule_must_be_exactly_one_form(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="either days_before"):
        ReminderRule(**fields)  # type: ignore[arg-type]


def test_reminder_rule_rejects_negative_days_before() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        on_day(-1, 9)


@pytest.mark.parametrize("span", [timedelta(0), timedelta(seconds=-1), timedelta(days=-2)])
def test_reminder_rule_rejects_a_non_positive_before(span: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        ReminderRule(before=span)


def test_zero_days_before_is_allowed_and_means_the_last_day() -> None:
    assert wall(on_day(0, 9).moment(CLOSES, OSLO)) == "Fri 2027-01-22 09:00"


def test_calendar_moment_is_days_before_the_closing_day_at_local_time() -> None:
    moment = on_day(2, 9).moment(CLOSES, OSLO)
    assert wall(moment) == "Wed 2027-01-20 09:00"
    assert moment == utc(2027, 1, 20, 8)  # CET: 09:00 local is 08:00 UTC
    assert is_utc(moment)


def test_calendar_moment_counts_from_the_local_closing_day_not_the_utc_day() -> None:
    closes = oslo(2027, 1, 22, 0, 30)  # Thursday 23:30 UTC, but Friday in Oslo
    assert closes.date() == date(2027, 1, 21)
    assert wall(on_day(1, 9).moment(closes, OSLO)) == "Thu 2027-01-21 09:00"


def test_duration_moment_is_exactly_before_the_deadline() -> None:
    assert before(hours=36).moment(CLOSES, OSLO) == CLOSES - timedelta(hours=36)
    assert before(minutes=1).moment(CLOSES, OSLO) == CLOSES - timedelta(minutes=1)


def test_duration_moment_is_elapsed_time_across_dst_even_for_a_local_deadline() -> None:
    closes_local = datetime(2027, 3, 28, 12, 0, tzinfo=OSLO)  # CEST, 10:00 UTC
    moment = before(hours=12).moment(closes_local, OSLO)
    assert moment == utc(2027, 3, 27, 22)  # 23:00 CET, twelve real hours earlier
    assert closes_local - moment == timedelta(hours=12)
    assert is_utc(moment)


@pytest.mark.parametrize(
    ("rule", "stored"),
    [
        (on_day(7, 9), {"days_before": 7, "at": "09:00"}),
        (on_day(0, 14, 30), {"days_before": 0, "at": "14:30"}),
        (before(minutes=90), {"before_seconds": 5400}),
        (before(days=2), {"before_seconds": 172800}),
    ],
)
def test_reminder_rule_json_round_trip(rule: ReminderRule, stored: dict[str, object]) -> None:
    assert rule.to_json() == stored
    assert ReminderRule.from_json(rule.to_json()) == rule


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (on_day(7, 9), "7 dager før frist kl. 09.00"),
        (on_day(1, 9), "1 dag før frist kl. 09.00"),
        (on_day(0, 9), "siste dag kl. 09.00"),
        (on_day(3, 14, 5), "3 dager før frist kl. 14.05"),
        (before(days=2), "2 dager før frist"),
        (before(days=1), "1 dag før frist"),
        (before(hours=36), "36 timer før frist"),
        (before(hours=1), "1 time før frist"),
        (before(minutes=90), "90 minutter før frist"),
        (before(minutes=1), "1 minutt før frist"),
        (before(seconds=45), "45 sekunder før frist"),
    ],
)
def test_reminder_rule_describes_itself_in_norwegian(rule: ReminderRule, text: str) -> None:
    assert rule.describe() == text


def test_default_plan_is_a_week_before_two_days_before_and_the_last_day_at_nine() -> None:
    assert [rule.describe() for rule in DEFAULT_REMINDERS] == [
        "7 dager før frist kl. 09.00",
        "2 dager før frist kl. 09.00",
        "siste dag kl. 09.00",
    ]


# --- QuietRules.allows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [
        (8, 0, True),
        (12, 0, True),
        (20, 59, True),
        (21, 0, False),
        (23, 30, False),
        (0, 0, False),
        (3, 0, False),
        (7, 59, False),
    ],
)
def test_default_quiet_hours_are_21_to_08_across_midnight(
    hour: int, minute: int, allowed: bool
) -> None:
    assert DEFAULT_QUIET.allows(oslo(2027, 1, 13, hour, minute), OSLO) is allowed  # a Wednesday


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (oslo(2027, 1, 15, 20, 59), True),  # Friday evening
        (oslo(2027, 1, 16, 0, 0), False),  # Saturday starts
        (oslo(2027, 1, 16, 12, 0), False),  # Saturday noon
        (oslo(2027, 1, 17, 12, 0), False),  # Sunday noon
        (oslo(2027, 1, 17, 23, 59), False),  # Sunday night
        (oslo(2027, 1, 18, 7, 59), False),  # Monday, still quiet hours
        (oslo(2027, 1, 18, 8, 0), True),  # Monday morning
    ],
)
def test_default_rules_allow_no_messages_on_weekends(moment: datetime, allowed: bool) -> None:
    assert DEFAULT_QUIET.allows(moment, OSLO) is allowed


def test_weekends_on_allows_weekend_days_but_keeps_quiet_hours() -> None:
    assert WEEKENDS_ON.allows(oslo(2027, 1, 16, 12), OSLO)
    assert WEEKENDS_ON.allows(oslo(2027, 1, 17, 8), OSLO)
    assert not WEEKENDS_ON.allows(oslo(2027, 1, 16, 22), OSLO)
    assert not WEEKENDS_ON.allows(oslo(2027, 1, 17, 7, 59), OSLO)


def test_quiet_hours_off_allows_the_night_but_not_weekends_by_default() -> None:
    assert NO_QUIET_HOURS.allows(oslo(2027, 1, 13, 3), OSLO)
    assert NO_QUIET_HOURS.allows(oslo(2027, 1, 13, 23, 59), OSLO)
    assert not NO_QUIET_HOURS.allows(oslo(2027, 1, 16, 3), OSLO)


def test_no_quiet_hours_and_weekends_on_allows_any_time() -> None:
    moments = [oslo(2027, 1, 13, 3), oslo(2027, 1, 16, 3), oslo(2027, 1, 17, 23, 59)]
    assert all(ANY_TIME.allows(moment, OSLO) for moment in moments)


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(0, 0, True), (11, 59, True), (12, 0, False), (12, 59, False), (13, 0, True), (23, 0, True)],
)
def test_a_non_wrapping_window_is_quiet_only_inside_it(
    hour: int, minute: int, allowed: bool
) -> None:
    assert LUNCH_QUIET.allows(oslo(2027, 1, 13, hour, minute), OSLO) is allowed


def test_allows_judges_by_the_local_clock_whatever_the_moments_zone() -> None:
    assert DEFAULT_QUIET.allows(utc(2027, 1, 13, 7, 30), OSLO)  # 08:30 in Oslo
    assert not DEFAULT_QUIET.allows(utc(2027, 1, 13, 20, 30), OSLO)  # 21:30 in Oslo
    assert not DEFAULT_QUIET.allows(utc(2027, 1, 15, 23, 30), OSLO)  # Saturday 00:30 in Oslo


@pytest.mark.parametrize(
    "fields",
    [
        {"quiet_start": time(21, 0), "quiet_end": None},
        {"quiet_start": None, "quiet_end": time(8, 0)},
        {"quiet_start": time(8, 0), "quiet_end": time(8, 0)},
    ],
    ids=["start-only", "end-only", "empty-window"],
)
def test_quiet_rules_need_a_real_window_or_none(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietRules(**fields)  # type: ignore[arg-type]


# --- QuietRules.next_allowed ----------------------------------------------------------


def test_next_allowed_of_an_allowed_moment_is_that_moment_in_utc() -> None:
    moment = datetime(2027, 1, 13, 10, 15, tzinfo=OSLO)
    result = DEFAULT_QUIET.next_allowed(moment, OSLO)
    assert result == moment
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("quiet", "moment", "expected"),
    [
        (DEFAULT_QUIET, oslo(2027, 1, 13, 22), "Thu 2027-01-14 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 13, 21), "Thu 2027-01-14 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 13, 3), "Wed 2027-01-13 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 13, 7, 59), "Wed 2027-01-13 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 15, 22), "Mon 2027-01-18 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 16, 10), "Mon 2027-01-18 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 17, 23, 30), "Mon 2027-01-18 08:00"),
        (DEFAULT_QUIET, oslo(2027, 1, 18, 2), "Mon 2027-01-18 08:00"),
        (WEEKENDS_ON, oslo(2027, 1, 15, 22), "Sat 2027-01-16 08:00"),
        (WEEKENDS_ON, oslo(2027, 1, 16, 21), "Sun 2027-01-17 08:00"),
        (WEEKENDS_ON, oslo(2027, 1, 17, 5), "Sun 2027-01-17 08:00"),
        (NO_QUIET_HOURS, oslo(2027, 1, 16, 10), "Mon 2027-01-18 00:00"),
        (LUNCH_QUIET, oslo(2027, 1, 13, 12, 30), "Wed 2027-01-13 13:00"),
        (replace(LUNCH_QUIET, weekends=False), oslo(2027, 1, 15, 12), "Fri 2027-01-15 13:00"),
    ],
)
def test_next_allowed_is_the_first_allowed_moment_after_a_quiet_one(
    quiet: QuietRules, moment: datetime, expected: str
) -> None:
    result = quiet.next_allowed(moment, OSLO)
    assert wall(result) == expected
    assert is_utc(result)


@pytest.mark.parametrize("quiet", [DEFAULT_QUIET, WEEKENDS_ON, NO_QUIET_HOURS, LUNCH_QUIET])
@pytest.mark.parametrize(
    "monday", [oslo(2027, 1, 11), oslo(2027, 3, 22), oslo(2027, 10, 25)], ids=str
)
def test_next_allowed_never_skips_an_allowed_moment_in_a_whole_week(
    quiet: QuietRules, monday: datetime
) -> None:
    step = timedelta(minutes=15)
    grid = [monday + step * n for n in range(9 * 24 * 4)]  # the week and two days more
    allowed = [moment for moment in grid if quiet.allows(moment, OSLO)]
    for moment in grid[: 7 * 24 * 4]:
        result = quiet.next_allowed(moment, OSLO)
        assert quiet.allows(result, OSLO)
        assert result >= moment
        assert result == min(a for a in allowed if a >= moment)


# --- Daylight saving time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 3, 27), utc(2027, 3, 27, 8)),  # CET, the day before spring forward
        (date(2027, 3, 29), utc(2027, 3, 29, 7)),  # CEST, the day after
        (date(2027, 10, 30), utc(2027, 10, 30, 7)),  # CEST, the day before fall back
        (date(2027, 11, 1), utc(2027, 11, 1, 8)),  # CET, the day after
    ],
)
def test_local_nine_oclock_maps_to_utc_by_the_season(day: date, expected: datetime) -> None:
    moment = local_moment(day, time(9, 0), OSLO)
    assert moment == expected
    assert moment.tzinfo is UTC
    assert wall(moment).endswith("09:00")


def test_local_moment_in_the_skipped_spring_hour_is_the_instant_an_hour_later() -> None:
    moment = local_moment(date(2027, 3, 28), time(2, 30), OSLO)
    assert moment == utc(2027, 3, 28, 1, 30)
    assert wall(moment) == "Sun 2027-03-28 03:30"


def test_local_moment_in_the_repeated_autumn_hour_is_the_first_occurrence() -> None:
    moment = local_moment(date(2027, 10, 31), time(2, 30), OSLO)
    assert moment == utc(2027, 10, 31, 0, 30)  # still CEST
    assert moment.astimezone(OSLO).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("day", "clock", "problem"),
    [
        (date(2027, 3, 28), time(1, 59), None),
        (date(2027, 3, 28), time(2, 0), "does not exist"),
        (date(2027, 3, 28), time(2, 30), "does not exist"),
        (date(2027, 3, 28), time(2, 59), "does not exist"),
        (date(2027, 3, 28), time(3, 0), None),
        (date(2027, 10, 31), time(1, 59), None),
        (date(2027, 10, 31), time(2, 0), "happens twice"),
        (date(2027, 10, 31), time(2, 30), "happens twice"),
        (date(2027, 10, 31), time(2, 59), "happens twice"),
        (date(2027, 10, 31), time(3, 0), None),
        (date(2027, 3, 27), time(2, 30), None),
        (date(2027, 1, 13), time(9, 0), None),
    ],
)
def test_local_time_problem_reports_skipped_and_repeated_times(
    day: date, clock: time, problem: str | None
) -> None:
    found = local_time_problem(day, clock, OSLO)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
        assert f"{day:%Y-%m-%d} {clock:%H:%M}" in found
        assert "Europe/Oslo" in found


def test_local_time_problem_names_the_direction_of_the_clock_change() -> None:
    assert local_time_problem(date(2027, 3, 28), time(2, 30), OSLO) == (
        "2027-03-28 02:30 does not exist in Europe/Oslo (the clocks go forward)"
    )
    assert local_time_problem(date(2027, 10, 31), time(2, 30), OSLO) == (
        "2027-10-31 02:30 happens twice in Europe/Oslo (the clocks go back)"
    )


def test_reminders_stay_at_nine_local_across_the_spring_change() -> None:
    opens, closes = oslo(2027, 3, 15, 9), oslo(2027, 3, 31, 16)  # closes Wednesday
    # Monday 29 March 2027 is Easter Monday: allow holidays so only the clock change counts.
    moments = reminder_times(
        DEFAULT_REMINDERS, opens_at=opens, closes_at=closes, quiet=HOLIDAYS_ON, zone=OSLO
    )
    assert moments == [utc(2027, 3, 24, 8), utc(2027, 3, 29, 7), utc(2027, 3, 31, 7)]
    assert [wall(m) for m in moments] == [
        "Wed 2027-03-24 09:00",
        "Mon 2027-03-29 09:00",
        "Wed 2027-03-31 09:00",
    ]


def test_two_days_before_at_nine_lands_at_nine_the_day_after_spring_forward() -> None:
    moment = on_day(2, 9).moment(oslo(2027, 3, 30, 16), OSLO)  # closes Tuesday
    assert moment == utc(2027, 3, 28, 7)
    assert wall(moment) == "Sun 2027-03-28 09:00"


def test_reminders_stay_at_nine_local_across_the_autumn_change() -> None:
    opens, closes = oslo(2027, 10, 18, 9), oslo(2027, 11, 3, 16)  # closes Wednesday
    moments = reminder_times(
        DEFAULT_REMINDERS, opens_at=opens, closes_at=closes, quiet=DEFAULT_QUIET, zone=OSLO
    )
    assert moments == [utc(2027, 10, 27, 7), utc(2027, 11, 1, 8), utc(2027, 11, 3, 8)]


@pytest.mark.parametrize(
    ("quiet", "moment", "expected"),
    [
        (ANY_DAY, oslo(2027, 3, 27, 22), utc(2027, 3, 28, 6)),  # Sunday 08:00 CEST
        (ANY_DAY, utc(2027, 3, 28, 1, 30), utc(2027, 3, 28, 6)),  # from 03:30 CEST
        (HOLIDAYS_ON, oslo(2027, 3, 26, 22), utc(2027, 3, 29, 6)),  # Monday 08:00 CEST
        (WEEKENDS_ON, oslo(2027, 10, 30, 22), utc(2027, 10, 31, 7)),  # Sunday 08:00 CET
        (WEEKENDS_ON, utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 7)),  # from 02:30 CEST
        (DEFAULT_QUIET, oslo(2027, 10, 29, 22), utc(2027, 11, 1, 7)),  # Monday 08:00 CET
    ],
)
def test_next_allowed_across_the_dst_night_is_eight_local(
    quiet: QuietRules, moment: datetime, expected: datetime
) -> None:
    result = quiet.next_allowed(moment, OSLO)
    assert result == expected
    assert wall(result).endswith("08:00")


# --- reminder_times ---------------------------------------------------------------------


def test_default_plan_on_weekdays_is_at_nine_each_time() -> None:
    assert plan(DEFAULT_REMINDERS, OPENS, CLOSES) == [
        "Fri 2027-01-15 09:00",
        "Wed 2027-01-20 09:00",
        "Fri 2027-01-22 09:00",
    ]


def test_sunday_deadline_moves_weekend_reminders_and_collapses_the_duplicate() -> None:
    # 7 days before is Sunday 17th: forward to Monday 08:00 (before the deadline).
    # 2 days before is Friday 22nd 09:00.
    # The last day is Sunday 24th: Monday 08:00 is past the deadline, so back to the
    # same clock time on the closest earlier allowed day, Friday 09:00, a duplicate.
    assert plan(DEFAULT_REMINDERS, OPENS, oslo(2027, 1, 24, 23, 59)) == [
        "Mon 2027-01-18 08:00",
        "Fri 2027-01-22 09:00",
    ]


def test_sunday_deadline_last_day_reminder_alone_goes_to_friday_nine() -> None:
    assert plan([on_day(0, 9)], OPENS, oslo(2027, 1, 24, 23, 59)) == ["Fri 2027-01-22 09:00"]


def test_saturday_deadline_last_day_reminder_goes_to_friday_at_the_same_clock() -> None:
    assert plan([on_day(0, 10)], OPENS, oslo(2027, 1, 23, 12)) == ["Fri 2027-01-22 10:00"]


def test_weekend_reminder_stays_on_the_weekend_when_weekends_are_allowed() -> None:
    closes = oslo(2027, 1, 24, 23, 59)
    assert plan(DEFAULT_REMINDERS, OPENS, closes, WEEKENDS_ON) == [
        "Sun 2027-01-17 09:00",
        "Fri 2027-01-22 09:00",
        "Sun 2027-01-24 09:00",
    ]


def test_reminder_in_quiet_hours_moves_forward_to_eight_before_the_deadline() -> None:
    closes = oslo(2027, 1, 13, 12)  # Wednesday noon
    assert plan([before(hours=14)], OPENS, closes) == ["Wed 2027-01-13 08:00"]  # from Tue 22:00


def test_quiet_reminder_uses_the_same_days_quiet_end_when_forward_is_too_late() -> None:
    closes = oslo(2027, 1, 22, 23, 30)  # Friday night
    # 22:30 is quiet; the next allowed moment is Monday, after the deadline.
    assert plan([before(hours=1)], OPENS, closes) == ["Fri 2027-01-22 08:00"]


def test_early_morning_quiet_reminder_goes_back_to_the_previous_mornings_end() -> None:
    closes = oslo(2027, 1, 13, 7, 30)  # Wednesday, before quiet hours end
    assert plan([before(hours=1)], OPENS, closes) == ["Tue 2027-01-12 08:00"]


def test_moved_reminders_are_always_allowed_and_before_the_deadline() -> None:
    rules = [before(hours=hours) for hours in range(1, 24 * 9)]
    closes = oslo(2027, 1, 24, 23, 59)
    moments = reminder_times(
        rules, opens_at=OPENS, closes_at=closes, quiet=DEFAULT_QUIET, zone=OSLO
    )
    assert moments
    assert all(DEFAULT_QUIET.allows(m, OSLO) and OPENS < m < closes for m in moments)


def test_reminders_at_or_before_opening_are_dropped() -> None:
    closes = oslo(2027, 1, 15, 16)  # Friday of the opening week
    rules = [on_day(7, 9), on_day(4, 9), before(hours=24 * 4 + 7), on_day(0, 9)]
    # 7 days before: the previous Friday; 4 days before at 09:00 is exactly the opening;
    # 4 days 7 hours before is the opening too.
    assert plan(rules, OPENS, closes) == ["Fri 2027-01-15 09:00"]


def test_reminder_at_the_deadline_is_dropped() -> None:
    closes = oslo(2027, 1, 22, 12)
    assert plan([on_day(0, 12)], OPENS, closes) == []


@pytest.mark.parametrize("quiet", [DEFAULT_QUIET, ANY_TIME])
def test_allowed_reminder_after_the_deadline_is_dropped_not_moved_earlier(
    quiet: QuietRules,
) -> None:
    closes = oslo(2027, 1, 20, 12)  # Wednesday noon; the last-day rule says 14:00
    assert plan([on_day(0, 14)], OPENS, closes, quiet) == []
    assert plan([on_day(0, 14), on_day(2, 10)], OPENS, closes, quiet) == ["Mon 2027-01-18 10:00"]


def test_identical_moments_collapse_into_one() -> None:
    rules = [on_day(2, 9), on_day(2, 9), before(hours=24 * 2 + 7)]  # all Wed 20th 09:00
    assert plan(rules, OPENS, CLOSES) == ["Wed 2027-01-20 09:00"]


def test_reminder_times_are_sorted_whatever_the_rule_order() -> None:
    rules = [on_day(0, 9), before(hours=3), on_day(7, 9), on_day(2, 15)]
    assert plan(rules, OPENS, CLOSES) == [
        "Fri 2027-01-15 09:00",
        "Wed 2027-01-20 15:00",
        "Fri 2027-01-22 09:00",
        "Fri 2027-01-22 13:00",
    ]


def test_no_rules_means_no_reminders() -> None:
    assert plan([], OPENS, CLOSES) == []


# --- QuietRules storage and text ------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "stored"),
    [
        (DEFAULT_QUIET, {"quiet_hours": "21:00-08:00", "weekends": False}),
        (WEEKENDS_ON, {"quiet_hours": "21:00-08:00", "weekends": True}),
        (NO_QUIET_HOURS, {"quiet_hours": None, "weekends": False}),
        (ANY_TIME, {"quiet_hours": None, "weekends": True}),
        (
            QuietRules(quiet_start=time(22, 30), quiet_end=time(6, 15)),
            {"quiet_hours": "22:30-06:15", "weekends": False},
        ),
    ],
)
def test_quiet_rules_json_round_trip(rules: QuietRules, stored: dict[str, object]) -> None:
    assert rules.to_json() == stored
    assert QuietRules.from_json(rules.to_json()) == rules


@pytest.mark.parametrize("stored", [None, {}])
def test_missing_quiet_rules_read_as_the_defaults(stored: dict[str, object] | None) -> None:
    assert QuietRules.from_json(stored) == QuietRules(time(21, 0), time(8, 0), weekends=False)


@pytest.mark.parametrize(
    ("rules", "text"),
    [
        (DEFAULT_QUIET, "ikke 21.00–08.00, ikke i helgene, ikke på helligdager"),
        (WEEKENDS_ON, "ikke 21.00–08.00, ikke på helligdager"),
        (NO_QUIET_HOURS, "ikke i helgene, ikke på helligdager"),
        (ANY_TIME, "ikke på helligdager"),
        (replace(ANY_TIME, holidays=True), "når som helst"),
        (replace(LUNCH_QUIET, holidays=True), "ikke 12.00–13.00"),
    ],
)
def test_quiet_rules_describe_themselves_in_norwegian(rules: QuietRules, text: str) -> None:
    assert rules.describe() == text


# --- due_reminder -----------------------------------------------------------------------

FIRST, SECOND, THIRD = oslo(2027, 1, 15, 9), oslo(2027, 1, 20, 9), oslo(2027, 1, 22, 9)
MOMENTS = [FIRST, SECOND, THIRD]


def test_no_reminder_is_due_before_the_first_moment() -> None:
    assert due_reminder(MOMENTS, None, FIRST - timedelta(seconds=1)) is None


def test_no_reminder_is_due_without_moments() -> None:
    assert due_reminder([], None, THIRD) is None


def test_a_reminder_is_due_at_its_moment() -> None:
    assert due_reminder(MOMENTS, None, FIRST) == FIRST


def test_one_reminder_is_due_between_moments() -> None:
    assert due_reminder(MOMENTS, None, SECOND - timedelta(hours=1)) == FIRST


def test_several_missed_reminders_fold_into_the_latest() -> None:
    assert due_reminder(MOMENTS, None, THIRD + timedelta(days=1)) == THIRD
    assert due_reminder(reversed(MOMENTS), None, SECOND + timedelta(minutes=5)) == SECOND


def test_handled_reminders_are_not_due_again() -> None:
    assert due_reminder(MOMENTS, FIRST, SECOND - timedelta(minutes=1)) is None
    assert due_reminder(MOMENTS, SECOND, SECOND + timedelta(hours=1)) is None
    assert due_reminder(MOMENTS, THIRD, THIRD + timedelta(days=3)) is None


def test_the_next_reminder_after_the_handled_one_becomes_due() -> None:
    assert due_reminder(MOMENTS, FIRST, SECOND) == SECOND
    assert due_reminder(MOMENTS, FIRST, THIRD) == THIRD


# --- round_triggers ---------------------------------------------------------------------

DURING_ROUND = oslo(2027, 1, 12, 10)  # Tuesday morning, before any reminder


def test_planned_round_triggers_opening_and_closing() -> None:
    assert round_triggers(timing(status="planned"), oslo(2027, 1, 4, 10), OSLO) == {
        "round:7:open": OPENS,
        "round:7:close": CLOSES,
    }


@pytest.mark.parametrize("status", ["planned", "open"])
def test_paused_round_triggers_only_closing(status: str) -> None:
    paused = timing(status=status, paused=True, invitations_queued=False)
    assert round_triggers(paused, DURING_ROUND, OSLO) == {"round:7:close": CLOSES}


@pytest.mark.parametrize("notices_done", [False, True])
def test_cancelled_round_triggers_nothing(notices_done: bool) -> None:
    cancelled = timing(status="cancelled", closed_notices_done=notices_done)
    assert round_triggers(cancelled, DURING_ROUND, OSLO) == {}


def test_closed_round_with_notices_pending_notifies_now_if_allowed() -> None:
    now = oslo(2027, 1, 22, 16, 5)
    assert round_triggers(timing(status="closed"), now, OSLO) == {"round:7:notify-closed": now}


def test_closed_round_notices_wait_for_the_next_allowed_moment() -> None:
    closed = timing(status="closed", closes_at=oslo(2027, 1, 22, 23))
    triggers = round_triggers(closed, oslo(2027, 1, 22, 23, 1), OSLO)
    assert list(triggers) == ["round:7:notify-closed"]
    assert wall(triggers["round:7:notify-closed"]) == "Mon 2027-01-25 08:00"


def test_closed_round_with_notices_done_triggers_nothing() -> None:
    done = timing(status="closed", closed_notices_done=True)
    assert round_triggers(done, oslo(2027, 1, 23, 10), OSLO) == {}


def test_open_round_triggers_closing_and_every_reminder_numbered_in_time_order() -> None:
    assert round_triggers(timing(), DURING_ROUND, OSLO) == {
        "round:7:close": CLOSES,
        "round:7:remind:1": oslo(2027, 1, 15, 9),
        "round:7:remind:2": oslo(2027, 1, 20, 9),
        "round:7:remind:3": oslo(2027, 1, 22, 9),
    }


def test_reminder_numbers_follow_time_order_not_rule_order() -> None:
    reordered = timing(reminders=tuple(reversed(DEFAULT_REMINDERS)))
    assert round_triggers(reordered, DURING_ROUND, OSLO) == round_triggers(
        timing(), DURING_ROUND, OSLO
    )


def test_job_ids_carry_the_round_id() -> None:
    triggers = round_triggers(timing(round_id=42), DURING_ROUND, OSLO)
    assert sorted(triggers) == [
        "round:42:close",
        "round:42:remind:1",
        "round:42:remind:2",
        "round:42:remind:3",
    ]


def test_open_round_without_invitations_invites_now_when_allowed() -> None:
    triggers = round_triggers(timing(invitations_queued=False), DURING_ROUND, OSLO)
    assert triggers["round:7:invite"] == DURING_ROUND
    assert "round:7:remind:1" in triggers


def test_invitations_wait_for_the_next_allowed_moment() -> None:
    opened_saturday = timing(opens_at=oslo(2027, 1, 9, 10), invitations_queued=False)
    triggers = round_triggers(opened_saturday, oslo(2027, 1, 9, 10, 1), OSLO)
    assert wall(triggers["round:7:invite"]) == "Mon 2027-01-11 08:00"


def test_queued_invitations_trigger_no_invite_job() -> None:
    assert "round:7:invite" not in round_triggers(timing(), DURING_ROUND, OSLO)


def test_handled_reminders_get_no_job_and_the_rest_keep_their_numbers() -> None:
    after_first = timing(last_reminder_for=oslo(2027, 1, 15, 9))
    assert round_triggers(after_first, oslo(2027, 1, 15, 9, 1), OSLO) == {
        "round:7:close": CLOSES,
        "round:7:remind:2": oslo(2027, 1, 20, 9),
        "round:7:remind:3": oslo(2027, 1, 22, 9),
    }


def test_all_reminders_handled_leaves_only_closing() -> None:
    done = timing(last_reminder_for=oslo(2027, 1, 22, 9))
    assert round_triggers(done, oslo(2027, 1, 22, 10), OSLO) == {"round:7:close": CLOSES}


def test_a_missed_reminder_runs_at_once_when_now_is_allowed() -> None:
    now = oslo(2027, 1, 20, 15)  # the 09:00 reminder was missed (process down)
    triggers = round_triggers(timing(last_reminder_for=oslo(2027, 1, 15, 9)), now, OSLO)
    assert triggers["round:7:remind:2"] == oslo(2027, 1, 20, 9)
    assert triggers["round:7:remind:2"] <= now


def test_a_reminder_due_in_quiet_hours_moves_to_the_next_allowed_moment() -> None:
    now = oslo(2027, 1, 20, 22)  # Wednesday night, the 09:00 reminder still owed
    triggers = round_triggers(timing(last_reminder_for=oslo(2027, 1, 15, 9)), now, OSLO)
    assert wall(triggers["round:7:remind:2"]) == "Thu 2027-01-21 08:00"
    assert triggers["round:7:remind:3"] == oslo(2027, 1, 22, 9)  # future: unchanged


def test_a_reminder_is_never_triggered_after_the_deadline() -> None:
    closes = oslo(2027, 1, 22, 20)
    late = timing(closes_at=closes, last_reminder_for=oslo(2027, 1, 20, 9))
    triggers = round_triggers(late, oslo(2027, 1, 22, 21, 30), OSLO)  # next allowed: Monday
    assert triggers == {"round:7:close": closes, "round:7:remind:3": closes}


def test_open_round_with_no_reminder_rules_triggers_only_closing() -> None:
    assert round_triggers(timing(reminders=()), DURING_ROUND, OSLO) == {"round:7:close": CLOSES}


def test_every_trigger_time_is_aware_utc() -> None:
    cases = [
        (timing(status="planned"), oslo(2027, 1, 4, 10)),
        (timing(invitations_queued=False), oslo(2027, 1, 16, 10)),
        (timing(status="closed"), oslo(2027, 1, 22, 22)),
        (timing(last_reminder_for=oslo(2027, 1, 15, 9)), oslo(2027, 1, 20, 23)),
    ]
    for round_timing, now in cases:
        triggers = round_triggers(round_timing, now, OSLO)
        assert triggers
        assert all(is_utc(at) for at in triggers.values())


# --- next_step ----------------------------------------------------------------------------------


def test_next_step_of_an_open_round_is_its_next_reminder_with_its_number() -> None:
    step = next_step(timing(), DURING_ROUND, OSLO)
    moments = timing().reminder_moments(OSLO)
    upcoming = [m for m in moments if m > DURING_ROUND]
    assert step is not None and step.kind == "remind" and step.round_id == 7
    assert step.at == upcoming[0]
    assert step.reminder == moments.index(upcoming[0]) + 1


def test_next_step_after_the_last_reminder_is_closing() -> None:
    moments = timing().reminder_moments(OSLO)
    done = timing(last_reminder_for=moments[-1])
    step = next_step(done, moments[-1] + timedelta(minutes=1), OSLO)
    assert step is not None and (step.kind, step.at, step.reminder) == ("close", CLOSES, None)


def test_next_step_of_a_planned_round_is_opening_and_of_a_paused_one_closing() -> None:
    planned = next_step(timing(status="planned"), oslo(2027, 1, 4, 10), OSLO)
    assert planned is not None and (planned.kind, planned.at) == ("open", OPENS)
    paused = next_step(timing(paused=True), DURING_ROUND, OSLO)
    assert paused is not None and (paused.kind, paused.at) == ("close", CLOSES)


def test_work_already_due_is_now_and_finished_rounds_have_no_next_step() -> None:
    now = oslo(2027, 1, 12, 11)  # a Tuesday, not quiet: invitations not queued yet
    step = next_step(timing(invitations_queued=False), now, OSLO)
    assert step is not None and (step.kind, step.at) == ("invite", now)
    late = next_step(timing(status="closed"), now, OSLO)
    assert late is not None and (late.kind, late.at) == ("notify-closed", now)
    assert next_step(timing(status="closed", closed_notices_done=True), now, OSLO) is None
    assert next_step(timing(status="cancelled"), now, OSLO) is None


def test_a_reminder_at_the_deadline_yields_to_closing() -> None:
    last_minute = timing(reminders=(ReminderRule(before=timedelta(seconds=1)),), quiet=ANY_TIME)
    step = next_step(last_minute, CLOSES - timedelta(hours=1), OSLO)
    assert step is not None and step.kind == "remind"
    # Both due at once (the process was down): the cycle closes; no reminder goes out.
    both = next_step(last_minute, CLOSES + timedelta(hours=1), OSLO)
    assert both is not None and both.kind == "close"
