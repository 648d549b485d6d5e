"""The årshjul calendar for ``lyttepost plan show``: marks, local times, names, layout."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar_view import (
    MARK_DEADLINE,
    MARK_OPEN,
    MARK_REMINDER,
    MARK_TODAY,
    MAX_WIDTH,
    MONTH_NAMES,
    CalendarRound,
    day_marks,
    format_day,
    format_moment,
    format_reminders,
    render_year,
    rounds_in_year,
)

OSLO = ZoneInfo("Europe/Oslo")
MONTH_COLUMNS = (0, 33, 66)  # where each of the three month grids in a band starts


def utc(*parts: int) -> datetime:
    """A UTC moment, as the database hands them over."""
    return datetime(*parts, tzinfo=UTC)


DEFAULT_OPENS = utc(2027, 1, 12, 8)
DEFAULT_CLOSES = utc(2027, 2, 9, 22, 59)
DEFAULT_REMINDERS = (utc(2027, 2, 2, 8), utc(2027, 2, 7, 8))


def make_round(
    round_id: int = 1,
    *,
    opens_at: datetime = DEFAULT_OPENS,
    closes_at: datetime = DEFAULT_CLOSES,
    reminders: tuple[datetime, ...] = DEFAULT_REMINDERS,
    status: str = "planned",
    paused: bool = False,
    key: str | None = "2027-1",
    title: str = "Behov i 1. kvartal",
    audience: str = "alle 371 medlemmer",
) -> CalendarRound:
    """A winter round (opens ti. 12. jan. 09.00 Oslo, deadline ti. 9. feb. 23.59) unless told."""
    return CalendarRound(
        round_id=round_id,
        key=key,
        title=title,
        status=status,
        paused=paused,
        opens_at=opens_at,
        closes_at=closes_at,
        reminders=reminders,
        audience=audience,
    )


def grid_lines(output: str) -> list[str]:
    """The lines between the heading and the legend."""
    lines = output.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("Tegnforklaring"))
    return lines[2:end]


def read_grid(output: str, year: int) -> tuple[list[date], dict[date, str]]:
    """Read the printed grid back: the days in print order and ``{day: marker}``.

    Checks on the way that each month sits under its name and each day under its weekday.
    """
    days: list[date] = []
    marks: dict[date, str] = {}
    bands = "\n".join(grid_lines(output)).strip("\n").split("\n\n")
    assert len(bands) == 4
    for band_index, band in enumerate(bands):
        rows = band.split("\n")
        for column_index, column in enumerate(MONTH_COLUMNS):
            month = band_index * 3 + column_index + 1
            assert rows[0][column : column + 30].strip() == MONTH_NAMES[month - 1]
            for row in rows[2:]:
                block = row[column : column + 30].ljust(30)
                for weekday in range(7):
                    cell = block[3 + weekday * 4 : 3 + weekday * 4 + 3]
                    if not cell.strip():
                        continue
                    day = date(year, month, int(cell[:2]))
                    assert day.weekday() == weekday, (day, cell)
                    days.append(day)
                    if cell[2] != " ":
                        marks[day] = cell[2]
    return days, marks


def parse_grid(output: str, year: int) -> dict[date, str]:
    """The printed markers as ``{day: marker}``."""
    return read_grid(output, year)[1]


def agenda(output: str) -> str:
    """Everything after the legend line."""
    return output.split("Tegnforklaring", 1)[1].split("\n", 1)[1].lstrip("\n")


def test_day_marks_put_opening_reminders_and_deadline_on_their_local_days() -> None:
    round_ = make_round(
        opens_at=utc(2027, 1, 12, 8),
        reminders=(utc(2027, 2, 2, 8), utc(2027, 2, 7, 8)),
        # 23:30 UTC on 8 February is 00:30 on 9 February in Oslo.
        closes_at=utc(2027, 2, 8, 23, 30),
    )
    assert day_marks(2027, [round_], OSLO) == {
        date(2027, 1, 12): MARK_OPEN,
        date(2027, 2, 2): MARK_REMINDER,
        date(2027, 2, 7): MARK_REMINDER,
        date(2027, 2, 9): MARK_DEADLINE,
    }


def test_the_most_important_event_wins_a_shared_day() -> None:
    first = make_round(1, opens_at=utc(2027, 1, 4, 8), closes_at=utc(2027, 3, 1, 22, 59))
    second = make_round(
        2,
        opens_at=utc(2027, 3, 1, 8),  # opens the day the first round closes
        reminders=(utc(2027, 3, 1, 12), utc(2027, 3, 8, 8)),  # a reminder the day it opens
        closes_at=utc(2027, 3, 20, 22, 59),
    )
    third = make_round(
        3,
        opens_at=utc(2027, 3, 8, 7),  # opens on a day the second round reminds
        reminders=(),
        closes_at=utc(2027, 3, 30, 21, 59),
    )
    marks = day_marks(2027, [third, second, first], OSLO)
    assert marks[date(2027, 3, 1)] == MARK_DEADLINE
    assert marks[date(2027, 3, 8)] == MARK_OPEN
    assert marks[date(2027, 3, 20)] == MARK_DEADLINE


def test_the_printed_grid_shows_exactly_the_day_marks() -> None:
    rounds = [
        make_round(1),
        make_round(
            2,
            opens_at=utc(2027, 6, 1, 7),
            reminders=(utc(2027, 6, 15, 7), utc(2027, 6, 25, 7)),
            closes_at=utc(2027, 6, 27, 21, 59),
        ),
        make_round(
            3,
            opens_at=utc(2027, 11, 29, 8),
            reminders=(utc(2027, 12, 13, 8),),
            closes_at=utc(2027, 12, 31, 22, 59),
        ),
    ]
    output = render_year(2027, rounds, OSLO)
    expected = day_marks(2027, rounds, OSLO)
    assert len(expected) == 11
    assert parse_grid(output, 2027) == expected


def test_the_grid_lists_every_day_of_the_year_once_under_its_weekday() -> None:
    days, marks = read_grid(render_year(2028, [], OSLO), 2028)  # a leap year
    assert marks == {}
    assert len(days) == 366
    assert sorted(days) == days
    assert len(set(days)) == 366


def test_iso_week_numbers_are_on_the_left() -> None:
    lines = grid_lines(render_year(2027, [], OSLO))
    # 1 January 2027 is a Friday in ISO week 53 of 2026; 4 January starts week 1.
    assert lines[2].startswith("53")
    assert lines[2][:30].split()[1:] == ["1", "2", "3"]
    assert lines[3].startswith(" 1  4")


def test_month_headers_appear_in_order() -> None:
    output = render_year(2027, [], OSLO)
    positions = [output.index(name) for name in MONTH_NAMES]
    assert positions == sorted(positions)
    header_rows = [line for line in grid_lines(output) if line.startswith("uk ma")]
    assert len(header_rows) == 4
    assert all(line.count("ma  ti  on  to  fr  lø  sø") == 3 for line in header_rows)


def test_heading_names_the_year_and_zone() -> None:
    output = render_year(2027, [], OSLO)
    assert output.splitlines()[0] == "Årshjul 2027 (tider i Europe/Oslo)"


def test_agenda_times_are_local_across_daylight_saving() -> None:
    winter = make_round(
        1,
        opens_at=utc(2027, 1, 12, 8),  # CET, UTC+1
        reminders=(utc(2027, 2, 2, 8),),
        closes_at=utc(2027, 2, 7, 22, 59),
    )
    summer = make_round(
        2,
        opens_at=utc(2027, 6, 1, 7),  # CEST, UTC+2
        reminders=(utc(2027, 6, 15, 7),),
        closes_at=utc(2027, 6, 27, 21, 59),
    )
    text = agenda(render_year(2027, [winter, summer], OSLO))
    assert "åpner        ti. 12. jan. kl. 09.00" in text
    assert "påminnelser  2. feb. kl. 09.00" in text
    assert "frist        sø. 7. feb. kl. 23.59" in text
    assert "åpner        ti. 1. juni kl. 09.00" in text
    assert "påminnelser  15. juni kl. 09.00" in text
    assert "frist        sø. 27. juni kl. 23.59" in text


def test_the_night_daylight_saving_starts() -> None:
    # Summer time starts at 01:00 UTC on Sunday 28 March 2027.
    before = utc(2027, 3, 28, 0, 30)
    after = utc(2027, 3, 28, 1, 30)
    assert format_moment(before, OSLO, 2027) == "sø. 28. mars kl. 01.30"
    assert format_moment(after, OSLO, 2027) == "sø. 28. mars kl. 03.30"


def test_times_follow_the_zone_passed_in() -> None:
    moment = utc(2027, 1, 12, 23, 30)
    assert format_moment(moment, OSLO, 2027) == "on. 13. jan. kl. 00.30"
    assert format_moment(moment, ZoneInfo("UTC"), 2027) == "ti. 12. jan. kl. 23.30"
    round_ = make_round(opens_at=moment, reminders=())
    assert date(2027, 1, 13) in day_marks(2027, [round_], OSLO)
    assert date(2027, 1, 12) in day_marks(2027, [round_], ZoneInfo("UTC"))


def test_weekday_abbreviations() -> None:
    # 4 to 10 January 2027 run Monday to Sunday.
    names = [format_day(utc(2027, 1, day, 12), OSLO, 2027) for day in range(4, 11)]
    assert names == [
        "ma. 4. jan.",
        "ti. 5. jan.",
        "on. 6. jan.",
        "to. 7. jan.",
        "fr. 8. jan.",
        "lø. 9. jan.",
        "sø. 10. jan.",
    ]


def test_month_abbreviations() -> None:
    names = [format_day(utc(2027, m, 15, 12), OSLO, 2027, weekday=False) for m in range(1, 13)]
    assert names == [
        "15. jan.",
        "15. feb.",
        "15. mars",
        "15. apr.",
        "15. mai",
        "15. juni",
        "15. juli",
        "15. aug.",
        "15. sep.",
        "15. okt.",
        "15. nov.",
        "15. des.",
    ]


def test_dates_outside_the_year_carry_their_year() -> None:
    assert format_day(utc(2026, 12, 1, 8), OSLO, 2027) == "ti. 1. des. 2026"
    assert format_day(utc(2027, 12, 1, 8), OSLO, 2027) == "on. 1. des."


def test_reminders_sharing_a_time_are_grouped_in_date_order() -> None:
    moments = (
        utc(2027, 2, 9, 8),
        utc(2027, 2, 2, 8),
        utc(2027, 2, 7, 8),
        utc(2027, 2, 8, 11),
        utc(2027, 2, 10, 8),
    )
    assert (
        format_reminders(moments, OSLO, 2027)
        == "2. feb., 7. feb. kl. 09.00; 8. feb. kl. 12.00; 9. feb., 10. feb. kl. 09.00"
    )
    assert format_reminders((), OSLO, 2027) == "ingen"


def test_agenda_heading_status_key_and_audience() -> None:
    rounds = [
        make_round(7, status="open", paused=True, audience="Vestland (44)"),
        make_round(8, status="closed", key=None, opens_at=utc(2027, 3, 1, 8), reminders=()),
        make_round(9, status="planned", opens_at=utc(2027, 4, 1, 7), reminders=()),
        make_round(10, status="cancelled", opens_at=utc(2027, 5, 3, 7), reminders=()),
    ]
    lines = agenda(render_year(2027, rounds, OSLO)).splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert headings == [
        "#7 2027-1 «Behov i 1. kvartal» – åpen, på pause",
        "#8 «Behov i 1. kvartal» – stengt",
        "#9 2027-1 «Behov i 1. kvartal» – planlagt",
        "#10 2027-1 «Behov i 1. kvartal» – avlyst",
    ]
    assert "    målgruppe    Vestland (44)" in lines
    assert "    påminnelser  ingen" in lines


def test_agenda_is_in_order_of_opening() -> None:
    late = make_round(1, opens_at=utc(2027, 9, 1, 7), closes_at=utc(2027, 9, 30, 21, 59))
    early = make_round(2, opens_at=utc(2027, 3, 1, 8), closes_at=utc(2027, 3, 30, 21, 59))
    middle = make_round(3, opens_at=utc(2027, 6, 1, 7), closes_at=utc(2027, 6, 30, 21, 59))
    assert [r.round_id for r in rounds_in_year(2027, [late, early, middle], OSLO)] == [2, 3, 1]
    text = agenda(render_year(2027, [late, early, middle], OSLO))
    assert text.index("#2 ") < text.index("#3 ") < text.index("#1 ")


def test_a_round_across_new_year_is_listed_in_both_years_and_marked_where_events_happen() -> None:
    round_ = make_round(
        opens_at=utc(2026, 12, 1, 8),
        reminders=(utc(2026, 12, 15, 8), utc(2027, 1, 7, 8)),
        closes_at=utc(2027, 1, 14, 22, 59),
        key="2026-4",
    )
    assert day_marks(2026, [round_], OSLO) == {
        date(2026, 12, 1): MARK_OPEN,
        date(2026, 12, 15): MARK_REMINDER,
    }
    assert day_marks(2027, [round_], OSLO) == {
        date(2027, 1, 7): MARK_REMINDER,
        date(2027, 1, 14): MARK_DEADLINE,
    }
    out_2026 = render_year(2026, [round_], OSLO)
    out_2027 = render_year(2027, [round_], OSLO)
    assert parse_grid(out_2026, 2026) == day_marks(2026, [round_], OSLO)
    assert parse_grid(out_2027, 2027) == day_marks(2027, [round_], OSLO)
    assert "frist        to. 14. jan. 2027 kl. 23.59" in agenda(out_2026)
    assert "åpner        ti. 1. des. 2026 kl. 09.00" in agenda(out_2027)
    assert "påminnelser  15. des. 2026, 7. jan. kl. 09.00" in agenda(out_2027)
    assert "påminnelser  15. des., 7. jan. 2027 kl. 09.00" in agenda(out_2026)


def test_a_round_spanning_a_whole_year_is_listed_without_marks() -> None:
    round_ = make_round(opens_at=utc(2026, 11, 2, 8), reminders=(), closes_at=utc(2028, 2, 1, 8))
    assert rounds_in_year(2027, [round_], OSLO) == [round_]
    assert day_marks(2027, [round_], OSLO) == {}
    assert "Ingen runder" not in render_year(2027, [round_], OSLO)


def test_rounds_of_other_years_are_left_out() -> None:
    last_year = make_round(
        1, opens_at=utc(2026, 3, 1, 8), reminders=(), closes_at=utc(2026, 3, 31, 21, 59)
    )
    next_year = make_round(
        2, opens_at=utc(2028, 3, 1, 8), reminders=(), closes_at=utc(2028, 3, 31, 21, 59)
    )
    assert rounds_in_year(2027, [last_year, next_year], OSLO) == []
    output = render_year(2027, [last_year, next_year], OSLO)
    assert "Ingen runder planlagt i 2027." in output
    assert "#1" not in output and "#2" not in output


def test_a_deadline_just_after_new_year_in_local_time_belongs_to_the_new_year() -> None:
    # 23:30 UTC on 31 December is 00:30 on 1 January in Oslo.
    round_ = make_round(
        opens_at=utc(2027, 12, 1, 8), reminders=(), closes_at=utc(2027, 12, 31, 23, 30)
    )
    assert day_marks(2027, [round_], OSLO) == {date(2027, 12, 1): MARK_OPEN}
    assert day_marks(2028, [round_], OSLO) == {date(2028, 1, 1): MARK_DEADLINE}
    assert rounds_in_year(2028, [round_], OSLO) == [round_]


def test_cancelled_rounds_are_in_the_agenda_but_not_the_grid() -> None:
    cancelled = make_round(5, status="cancelled")
    assert day_marks(2027, [cancelled], OSLO) == {}
    output = render_year(2027, [cancelled], OSLO)
    assert parse_grid(output, 2027) == {}
    assert "#5 2027-1 «Behov i 1. kvartal» – avlyst" in output
    assert "Ingen runder" not in output


def test_paused_rounds_keep_their_marks() -> None:
    paused = make_round(status="open", paused=True)
    assert day_marks(2027, [paused], OSLO) == day_marks(2027, [make_round()], OSLO) != {}


def test_today_is_marked_when_it_has_no_event() -> None:
    output = render_year(2027, [make_round()], OSLO, today=date(2027, 3, 10))
    assert parse_grid(output, 2027)[date(2027, 3, 10)] == MARK_TODAY
    assert list(parse_grid(output, 2027).values()).count(MARK_TODAY) == 1
    assert "* i dag (on. 10. mars)" in output


def test_an_event_on_today_keeps_its_marker_and_the_legend_names_today() -> None:
    output = render_year(2027, [make_round()], OSLO, today=date(2027, 1, 12))
    grid = parse_grid(output, 2027)
    assert grid[date(2027, 1, 12)] == MARK_OPEN
    assert MARK_TODAY not in grid.values()
    assert "* i dag (ti. 12. jan.)" in output


@pytest.mark.parametrize("today", [None, date(2026, 12, 31)])
def test_no_today_marker_without_today_in_the_year(today: date | None) -> None:
    output = render_year(2027, [make_round()], OSLO, today=today)
    assert MARK_TODAY not in parse_grid(output, 2027).values()
    assert "i dag" not in output


def test_empty_year_has_the_grid_and_a_message() -> None:
    output = render_year(2027, [], OSLO)
    assert output.rstrip("\n").splitlines()[-1] == "Ingen runder planlagt i 2027."
    assert parse_grid(output, 2027) == {}
    assert all(name in output for name in MONTH_NAMES)
    assert "Tegnforklaring: Å åpner, p påminnelse, F frist" in output


def test_every_line_fits_even_with_long_texts() -> None:
    long_round = make_round(
        title=" ".join(["Behovskartlegging om digital samhandling mellom kommuner"] * 3),
        audience="; ".join(f"Kommune nummer {n} i Vestland" for n in range(20)),
        reminders=tuple(utc(2027, 1, day, 8 + day % 3) for day in range(13, 31)),
    )
    output = render_year(2027, [long_round], OSLO, today=date(2027, 1, 20))
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= MAX_WIDTH
    assert "\x1b" not in output  # no ANSI colours
    assert all(line == line.rstrip() for line in lines)
    # The title continues under the key, values under the value column; dates stay whole.
    details = agenda(output).rstrip("\n").splitlines()
    assert details[0].startswith("#1 2027-1 «Behovskartlegging")
    assert details[1].startswith("   ") and not details[1].startswith("    ")
    value_lines = details[details.index("    åpner        ti. 12. jan. kl. 09.00") :]
    labels = ("åpner", "påminnelser", "frist", "målgruppe")
    continued = [line for line in value_lines if line.split()[0] not in labels]
    assert len(continued) >= 4
    assert all(line.startswith(" " * 17) and line[17] != " " for line in continued)
    reminder_text = " ".join(value_lines).split("påminnelser", 1)[1].split("frist", 1)[0]
    for part in reminder_text.split(";"):
        assert re.fullmatch(r"\s*\d{1,2}\. jan\. kl\. \d\d\.00\s*", part), part
    flat = " ".join(" ".join(details).split())
    assert "Kommune nummer 19 i Vestland" in flat


def test_wrapped_dates_of_another_year_stay_whole() -> None:
    # Viewed from 2026, every reminder carries its year: "1. mars 2027, 2. mars 2027, ...".
    round_ = make_round(
        opens_at=utc(2026, 12, 1, 8),
        reminders=tuple(utc(2027, 3, day, 8) for day in range(1, 28)),  # CET only
        closes_at=utc(2027, 3, 29, 21, 59),
    )
    details = agenda(render_year(2026, [round_], OSLO)).splitlines()
    start = next(i for i, line in enumerate(details) if "påminnelser" in line)
    end = next(i for i, line in enumerate(details) if "frist" in line)
    reminder_lines = details[start:end]
    assert len(reminder_lines) > 1
    assert all(len(line) <= MAX_WIDTH for line in reminder_lines)
    for line in reminder_lines:
        value = line.split("påminnelser", 1)[-1].strip()
        assert re.fullmatch(r"(\d{1,2}\. mars 2027, )*\d{1,2}\. mars 2027,?( kl\. 09\.00)?", value)


def test_naive_datetimes_are_refused() -> None:
    naive = make_round(opens_at=datetime(2027, 1, 12, 9))
    with pytest.raises(ValueError, match="naive"):
        render_year(2027, [naive], OSLO)
