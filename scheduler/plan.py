"""Annual plans ("årshjul"): the year's collection rounds in one YAML file, validated.

An admin describes a year's rounds once. ``load_plan_file`` checks the whole file and
reports every problem with file, line and field (``plan.yaml:14: rounds[2].closes: ...``)
in one go, so the plan is right before anything reaches the database. Checks that need
the database (does the survey exist, does the county have members) are made when the
plan is applied; ``PlannedRound.problem`` gives those errors the right line too.

Format (a full example is ``docs/examples/arshjul-2027.yaml``)::

    name: Årshjul 2027                  # optional
    blackouts:                          # optional: whole days with no automatic outreach
      - name: Fellesferie               # 1-100 characters, named in dry-run notes
        from: 2027-07-01                # dates (no time of day), both days included
        to: 2027-07-31                  # on or after from; periods may overlap
    defaults:                           # optional; survey, audience, reminders, quiet_hours,
                                        # weekends, holidays, retention_months
      survey: kvartalsvis-behov
      reminders: [{days_before: 7, at: "09:00"}, {days_before: 0, at: "09:00"}]
    rounds:
      - key: 2027-1                     # ^[a-z0-9][a-z0-9._-]{0,59}$, unique in the file; applying
                                        # the file again updates the round with this key
        title: Behovsinnhenting 1. kvartal 2027   # optional, 1-200 characters; default: the survey's title
        survey: kvartalsvis-behov       # required here or in defaults
        opens: 2027-01-11 09:00         # or 2027-01-11T09:00 (seconds allowed); a bare date opens at 08:00
        closes: 2027-01-29              # a bare date closes at 23:59 that day
        audience: all                   # default; or {county: "46"}, {kind: kommune | fylkeskommune},
                                        # {orgs: ["3301", "46"]} or {orgs: "3301, 46"}
                                        # (4-digit kommunenummer, 2-digit fylkesnummer)
        reminders:                      # default: 7 and 2 days before and on the last day, at 09:00
          - {days_before: 2, at: "09:00"}   # days_before 0..60; 0 is the closing day
          - {before: 2h}                # or exactly this long before the deadline: n + s|m|h|d
        quiet_hours: "21:00-08:00"      # default; or "off"
        weekends: false                 # default; true lets messages go out on Saturdays/Sundays
        holidays: quiet                 # default; allowed lets messages go out on Norwegian
                                        # public holidays (17. mai, Kristi himmelfart, ...)
        retention_months: 24            # default; 1-120: months after closing until free text
                                        # and every link from answers to a person are erased

A round field left out comes from ``defaults``, else from the built-in default; ``[]``
means no reminders. Booleans are true/false/yes/no. Times are wall-clock times in the
zone passed in (Europe/Oslo) and are returned in UTC. A time that does not exist or that
happens twice when the clocks change is an error, and so is an explicit UTC offset
(``+01:00``, ``Z``): the whole file is in one zone, so a summer date cannot silently get a
winter offset. Findings that do not stop the plan (a round opening when members may not
be messaged, a reminder that falls outside its round) are in ``Plan.warnings``.

An opening or deadline on a public holiday the round does not allow, or in a blackout
period, is moved to the next day members may be messaged, at the same time of day
(``scheduler/plan_moves.py``); ``PlannedRound.moves`` says what moved and why. The round
keeps the blackouts that touch it in its quiet rules, so the cycle holds reminders and
notices due in one until it ends.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.definition import KEY as SURVEY_KEY
from dialogs.norwegian_calendar import SATURDAY, Blackout
from dialogs.reminders import (
    DEFAULT_REMINDERS,
    QuietRules,
    ReminderRule,
    local_moment,
    local_time_problem,
)
from dialogs.yamlsource import (
    LineReader,
    Path_,
    SourceError,
    SourceProblem,
    compose,
    field_name,
    read_text_file,
)
from scheduler.plan_moves import Move, move_date, reminder_moves
from services.rounds import (
    DEFAULT_RETENTION_MONTHS,
    MAX_RETENTION_MONTHS,
    MEMBER_KINDS,
    MIN_RETENTION_MONTHS,
    Audience,
)

ROUND_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
MAX_TITLE = 200
MAX_DAYS_BEFORE = 60
OPENS_CLOCK = time(8, 0)  # a bare opening date
CLOSES_CLOCK = time(23, 59)  # a bare closing date

TOP_FIELDS = ("name", "blackouts", "defaults", "rounds")
DEFAULTABLE = (
    "survey", "audience", "reminders", "quiet_hours", "weekends", "holidays", "retention_months",
)  # fmt: skip
BLACKOUT_FIELDS = ("name", "from", "to")
MAX_BLACKOUT_NAME = 100
MAX_BLACKOUT_DAYS = 366
HOLIDAY_CHOICES = {"quiet": False, "allowed": True}
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
ROUND_FIELDS = ("key", "title", "opens", "closes", *DEFAULTABLE)
REMINDER_FIELDS = ("days_before", "at", "before")
AUDIENCE_FIELDS = ("county", "orgs", "kind")

MOMENT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
OFFSET = re.compile(r"\d:\d{2}(?::\d{2})?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
QUIET_HOURS = re.compile(r"^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$")
DURATION = re.compile(r"^(\d+)\s*([smhd])$")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
COUNTY = re.compile(r"^\d{1,2}$")
ORG_CODE = re.compile(r"^(\d{4}|\d{2})$")
BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AUDIENCE_FORMS = 'write all, {county: "46"}, {orgs: ["3301", "46"]} or {kind: kommune}'
REMINDER_FORMS = '{days_before: 7, at: "09:00"} or {before: 2h}'

_BUILTIN_QUIET = QuietRules()


class PlanError(SourceError):
    """A plan file that cannot be used; ``problems`` lists every problem found.

    ``plan`` holds the rounds that could be read despite the problems (None when the
    file could not be read at all), so the database checks can still be made on them
    and every problem reported at once.
    """

    def __init__(self, problems: list[SourceProblem], plan: Plan | None = None) -> None:
        super().__init__(problems)
        self.plan = plan


@dataclass(frozen=True)
class PlannedRound:
    """One round of a plan, checked and resolved (defaults applied, times in UTC).

    ``field_lines`` maps field names relative to the round (``survey``,
    ``audience.orgs[1]``, ``reminders[0].at``) to the line they were written on, so
    errors found later against the database still point into the file. Fields named in
    ``inherited`` came from ``defaults`` and their lines are there.
    """

    key: str
    title: str | None
    survey: str
    opens_at: datetime
    closes_at: datetime
    audience: Audience
    reminders: tuple[ReminderRule, ...]
    quiet: QuietRules
    line: int
    index: int
    field_lines: dict[str, int] = field(default_factory=dict, hash=False)
    inherited: frozenset[str] = frozenset()
    retention_months: int = DEFAULT_RETENTION_MONTHS
    written_opens_at: datetime | None = None  # as written, when the calendar moved it
    written_closes_at: datetime | None = None
    moves: tuple[Move, ...] = ()

    def problem(self, source: str, field: str, message: str) -> SourceProblem:
        """A problem with ``field`` of this round, on the line where it was written.

        A field inherited from ``defaults`` is reported there (that is where to fix
        it), naming the round that uses it.
        """
        root = re.match(r"[a-z_]+", field)
        name = root.group(0) if root else ""
        line = self.field_lines.get(field, self.field_lines.get(name, self.line))
        if name in self.inherited:
            return SourceProblem(
                source, line, f"defaults.{field}", f"{message} (used by rounds[{self.index}])"
            )
        where = f"rounds[{self.index}].{field}" if field else f"rounds[{self.index}]"
        return SourceProblem(source, line, where, message)


@dataclass(frozen=True)
class Plan:
    """A checked annual plan: its rounds in file order, and non-fatal findings."""

    source: str
    name: str | None
    rounds: tuple[PlannedRound, ...]
    warnings: tuple[SourceProblem, ...] = ()
    blackouts: tuple[Blackout, ...] = ()


def load_plan_file(path: str | Path, zone: ZoneInfo) -> Plan:
    """Load and check a plan file; raises ``PlanError`` listing every problem."""
    try:
        text = read_text_file(path)
    except SourceError as error:
        raise PlanError(error.problems) from None
    return load_plan_text(text, str(path), zone)


def load_plan_text(text: str, source: str, zone: ZoneInfo) -> Plan:
    """Load and check plan YAML; ``source`` names it in problems, ``zone`` is local time."""
    try:
        node = compose(text, source)
    except SourceError as error:
        raise PlanError(error.problems) from None
    problems: list[SourceProblem] = []
    reader = LineReader(problems, source, raw_scalars=True)
    data = reader.read(node)
    if not isinstance(data, dict):
        raise PlanError(
            [SourceProblem(source, 1, "", "a plan file is a mapping (name:, defaults:, rounds:)")]
        )
    checker = _Checker(source, reader, zone, problems)
    plan = checker.plan(data)
    if problems:
        raise PlanError(sorted(problems, key=lambda p: p.line or 0), plan)
    return plan


class _Checker:
    """Turns the raw data into a ``Plan``, recording every problem on the way.

    Each ``parse_*`` returns the value, or None after recording a problem; whether a
    round is usable is decided by whether problems were recorded while reading it.
    """

    def __init__(
        self, source: str, reader: LineReader, zone: ZoneInfo, problems: list[SourceProblem]
    ) -> None:
        self.source = source
        self.reader = reader
        self.zone = zone
        self.problems = problems
        self.warnings: list[SourceProblem] = []
        self.blackouts: tuple[Blackout, ...] = ()

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(
            SourceProblem(self.source, self.reader.line(path), field_name(path), message)
        )

    # --- the file ---------------------------------------------------------------------

    def plan(self, data: dict[str, Any]) -> Plan:
        self.unknown_fields(data, (), TOP_FIELDS)
        name = self.parse_text(data["name"], ("name",)) if "name" in data else None
        self.blackouts = self.parse_blackouts(data["blackouts"]) if "blackouts" in data else ()
        defaults, bad_defaults = self.defaults(data.get("defaults", {}))
        rounds: list[PlannedRound] = []
        raw_rounds = data.get("rounds")
        if "rounds" not in data:
            self.problem(("rounds",), "missing: the file needs a list of rounds")
        elif not isinstance(raw_rounds, list):
            self.problem(("rounds",), "must be a list of rounds (- key: ...)")
        elif not raw_rounds:
            self.problem(("rounds",), "no rounds: add at least one")
        else:
            keys: dict[str, int] = {}
            for index, raw in enumerate(raw_rounds):
                planned = self.round(index, raw, defaults, bad_defaults, keys)
                if planned is not None:
                    rounds.append(planned)
        return Plan(self.source, name, tuple(rounds), tuple(self.warnings), self.blackouts)

    def defaults(self, raw: Any) -> tuple[dict[str, Any], set[str]]:
        """The valid defaults, and the names of defaults that had problems."""
        path: Path_ = ("defaults",)
        if not isinstance(raw, dict):
            self.problem(path, "must be a mapping of round fields (survey:, audience:, ...)")
            return {}, set(DEFAULTABLE)
        valid: dict[str, Any] = {}
        bad: set[str] = set()
        for name, value in raw.items():
            if name in ("key", "title", "opens", "closes"):
                self.problem((*path, name), "cannot be a default: set it on each round")
            elif name not in DEFAULTABLE:
                self.unknown_fields({name: value}, path, DEFAULTABLE)
            else:
                before = len(self.problems)
                parsed = self.parse_field(name, value, (*path, name))
                if len(self.problems) == before:
                    valid[name] = parsed
                else:
                    bad.add(name)
        return valid, bad

    def round(
        self,
        index: int,
        raw: Any,
        defaults: dict[str, Any],
        bad_defaults: set[str],
        keys: dict[str, int],
    ) -> PlannedRound | None:
        path: Path_ = ("rounds", index)
        if not isinstance(raw, dict):
            self.problem(path, "a round is a mapping (key:, survey:, opens:, closes:, ...)")
            return None
        before = len(self.problems)
        self.unknown_fields(raw, path, ROUND_FIELDS)
        key = self.round_key(raw, index, keys)
        title = self.parse_title(raw["title"], (*path, "title")) if "title" in raw else None
        opens = self.required_moment(raw, path, "opens", OPENS_CLOCK)
        closes = self.required_moment(raw, path, "closes", CLOSES_CLOCK)
        if opens is not None and closes is not None and closes <= opens:
            self.problem((*path, "closes"), f"must be after the round opens, {self.when(opens)}")
        values: dict[str, Any] = {
            "audience": Audience(),
            "reminders": DEFAULT_REMINDERS,
            "quiet_hours": (_BUILTIN_QUIET.quiet_start, _BUILTIN_QUIET.quiet_end),
            "weekends": _BUILTIN_QUIET.weekends,
            "holidays": _BUILTIN_QUIET.holidays,
            "retention_months": DEFAULT_RETENTION_MONTHS,
        }
        inherited: set[str] = set()
        usable = True
        for name in DEFAULTABLE:
            if name in raw:
                values[name] = self.parse_field(name, raw[name], (*path, name))
            elif name in defaults:
                values[name] = defaults[name]
                inherited.add(name)
            elif name in bad_defaults:
                usable = False  # already reported under defaults
            elif name == "survey":
                self.problem((*path, "survey"), "missing: name the survey here or in defaults")
        if not usable or len(self.problems) > before:
            return None
        assert key is not None and opens is not None and closes is not None
        start, end = values["quiet_hours"]
        calendar = QuietRules(
            quiet_start=start,
            quiet_end=end,
            weekends=values["weekends"],
            holidays=values["holidays"],
            blackouts=self.blackouts,
        )
        moved_opens, opens_why = move_date(opens, calendar, self.zone)
        moved_closes, closes_why = move_date(closes, calendar, self.zone)
        moves = [
            Move(name, label, written, moved, why)
            for name, label, written, moved, why in (
                ("opens", "Åpning", opens, moved_opens, opens_why),
                ("closes", "Frist", closes, moved_closes, closes_why),
            )
            if moved != written
        ]
        if moved_closes <= moved_opens:
            self.problem(
                (*path, "opens"),
                f"falls on a day off ({', '.join(opens_why)}) and would move to "
                f"{self.when(moved_opens)}, which is not before the round closes, "
                f"{self.when(moved_closes)}; choose other dates",
            )
            return None
        # The round keeps the blackouts that touch it, up to the day after its deadline
        # (when members are told it closed).
        first_day = moved_opens.astimezone(self.zone).date()
        last_day = moved_closes.astimezone(self.zone).date() + timedelta(days=1)
        quiet = replace(
            calendar,
            blackouts=tuple(b for b in self.blackouts if b.overlaps(first_day, last_day)),
        )
        moves += reminder_moves(
            values["reminders"],
            opens_at=moved_opens,
            closes_at=moved_closes,
            quiet=quiet,
            zone=self.zone,
        )
        planned = PlannedRound(
            key=key,
            title=title,
            survey=values["survey"],
            opens_at=moved_opens,
            closes_at=moved_closes,
            audience=values["audience"],
            reminders=values["reminders"],
            quiet=quiet,
            line=self.reader.line(path) or 1,
            index=index,
            field_lines=self.field_lines(path, inherited),
            inherited=frozenset(inherited),
            retention_months=values["retention_months"],
            written_opens_at=opens if moved_opens != opens else None,
            written_closes_at=closes if moved_closes != closes else None,
            moves=tuple(moves),
        )
        self.check_timing(planned)
        return planned

    def field_lines(self, path: Path_, inherited: set[str]) -> dict[str, int]:
        """Lines of everything written under the round, and under the defaults it uses."""
        lines = {
            field_name(written[len(path) :]): line
            for written, line in self.reader.lines.items()
            if written[: len(path)] == path and len(written) > len(path)
        }
        for written, line in self.reader.lines.items():
            if len(written) > 1 and written[0] == "defaults" and written[1] in inherited:
                lines[field_name(written[1:])] = line
        return lines

    def check_timing(self, planned: PlannedRound) -> None:
        """Warn about an opening members may not be messaged at, and reminders never sent.

        A round whose invitations could not go out before it closes is an error.
        """
        opens, closes, quiet = planned.opens_at, planned.closes_at, planned.quiet
        if not quiet.allows(opens, self.zone):
            local = opens.astimezone(self.zone)
            reasons = []
            if not quiet.weekends and local.weekday() >= SATURDAY:
                reasons.append("on a weekend (weekends: false)")
            if not replace(quiet, weekends=True, holidays=True, blackouts=()).allows(
                opens, self.zone
            ):
                reasons.append(
                    f"in quiet hours ({quiet.quiet_start:%H:%M}-{quiet.quiet_end:%H:%M})"
                )
            first = quiet.next_allowed(opens, self.zone)
            situation = f"opens {self.when(opens)}, {' and '.join(reasons)}"
            if first >= closes:
                self.problems.append(
                    planned.problem(
                        self.source,
                        "opens",
                        f"{situation}, and members may not be messaged before it closes "
                        f"({self.when(closes)}): no one would be invited",
                    )
                )
            else:
                self.warnings.append(
                    planned.problem(
                        self.source,
                        "opens",
                        f"{situation}: invitations wait until {self.when(first)}",
                    )
                )
        for number, rule in enumerate(planned.reminders):
            moment = rule.moment(closes, self.zone)
            if not opens < moment < closes:
                self.warnings.append(
                    planned.problem(
                        self.source,
                        f"reminders[{number}]",
                        f"the reminder {_describe(rule)} would go out {self.when(moment)}, "
                        "not while the round is open; it will not be sent",
                    )
                )

    # --- fields -------------------------------------------------------------------------

    def unknown_fields(self, data: dict[str, Any], path: Path_, allowed: tuple[str, ...]) -> None:
        for name in data:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(allowed)}"
                self.problem((*path, name), f"unknown field; {hint}")

    def parse_field(self, name: str, value: Any, path: Path_) -> Any:
        parsers = {
            "survey": self.parse_survey,
            "audience": self.parse_audience,
            "reminders": self.parse_reminders,
            "quiet_hours": self.parse_quiet_hours,
            "weekends": self.parse_boolean,
            "holidays": self.parse_holidays,
            "retention_months": self.parse_retention,
        }
        return parsers[name](value, path)

    def parse_text(self, value: Any, path: Path_) -> str | None:
        """A single value as stripped text (None, a list or a mapping is a problem)."""
        if value is None:
            self.problem(path, "has no value")
            return None
        if not isinstance(value, str):
            kind = "a list" if isinstance(value, list) else "a mapping"
            self.problem(path, f"must be a single value, not {kind}")
            return None
        return value.strip()

    def round_key(self, raw: dict[str, Any], index: int, keys: dict[str, int]) -> str | None:
        path: Path_ = ("rounds", index)
        if "key" not in raw:
            self.problem((*path, "key"), "missing: every round needs a key, e.g. 2027-1")
            return None
        key = self.parse_text(raw["key"], (*path, "key"))
        if key is None:
            return None
        if not ROUND_KEY.match(key):
            self.problem(
                (*path, "key"),
                f"{key!r}: use 1-60 of a-z, 0-9, '.', '_' and '-', "
                "starting with a letter or digit (e.g. 2027-1)",
            )
            return None
        if key in keys:
            first = keys[key]
            self.problem(
                (*path, "key"),
                f"duplicate round key {key!r}; rounds[{first}] "
                f"(line {self.reader.line(('rounds', first, 'key'))}) has it too",
            )
            return None
        keys[key] = index
        return key

    def parse_title(self, value: Any, path: Path_) -> str | None:
        title = self.parse_text(value, path)
        if title is None:
            return None
        if not title:
            self.problem(path, "is empty; leave title out to use the survey's own title")
            return None
        if len(title) > MAX_TITLE:
            self.problem(path, f"is {len(title)} characters long; at most {MAX_TITLE}")
            return None
        return title

    def parse_survey(self, value: Any, path: Path_) -> str | None:
        survey = self.parse_text(value, path)
        if survey is not None and not SURVEY_KEY.match(survey):
            self.problem(
                path,
                f"{survey!r} is not a survey key: lower-case letters, digits and '-', "
                "starting with a letter (e.g. kvartalsvis-behov)",
            )
            return None
        return survey

    def required_moment(
        self, raw: dict[str, Any], path: Path_, name: str, bare_clock: time
    ) -> datetime | None:
        if name not in raw:
            self.problem((*path, name), "missing: a date, e.g. 2027-01-11 09:00")
            return None
        return self.parse_moment(raw[name], (*path, name), bare_clock)

    def parse_moment(self, value: Any, path: Path_, bare_clock: time) -> datetime | None:
        """A local date and time (a bare date means ``bare_clock``) as aware UTC."""
        text = self.parse_text(value, path)
        if text is None:
            return None
        match = MOMENT.match(text)
        if match is None:
            if OFFSET.search(text):
                self.problem(
                    path,
                    f"{text!r}: leave out the UTC offset; all times in the file are "
                    f"{self.zone.key} local time, e.g. 2027-01-11 09:00",
                )
            else:
                self.problem(
                    path,
                    f"{text!r} is not a date and time: write 2027-01-11 09:00, "
                    f"2027-01-11T09:00 or just 2027-01-11 (= {bare_clock:%H:%M}), "
                    f"{self.zone.key} local time",
                )
            return None
        year, month, day, hour, minute, second = match.groups()
        try:
            moment_day = date(int(year), int(month), int(day))
        except ValueError:
            self.problem(path, f"{text!r}: there is no such date")
            return None
        clock = bare_clock
        if hour is not None:
            parsed = _clock(f"{hour}:{minute}")
            if parsed is None:
                self.problem(path, f"{text!r}: there is no such time of day (00:00-23:59)")
                return None
            if second is not None and int(second) > 59:
                self.problem(path, f"{text!r}: there is no such time of day (00:00-23:59)")
                return None
            clock = parsed.replace(second=int(second or 0))
        dst = local_time_problem(moment_day, clock, self.zone)
        if dst is not None:
            self.problem(path, f"{dst}; choose another time")
            return None
        return local_moment(moment_day, clock, self.zone)

    def parse_audience(self, value: Any, path: Path_) -> Audience | None:
        if isinstance(value, str) and value.strip().lower() == "all":
            return Audience()
        if not isinstance(value, dict):
            shown = f"{value!r}: " if isinstance(value, str) else ""
            self.problem(path, f"{shown}{AUDIENCE_FORMS}")
            return None
        self.unknown_fields(value, path, AUDIENCE_FIELDS)
        chosen = [name for name in AUDIENCE_FIELDS if name in value]
        if len(chosen) != 1:
            self.problem(
                path,
                f"give exactly one of county, orgs or kind (found {len(chosen)}); {AUDIENCE_FORMS}",
            )
            return None
        name = chosen[0]
        if name == "orgs":
            codes = self.parse_orgs(value["orgs"], (*path, "orgs"))
            return Audience(org_codes=codes) if codes else None
        text = self.parse_text(value[name], (*path, name))
        if text is None:
            return None
        if name == "county":
            if not COUNTY.match(text):
                self.problem((*path, name), f'{text!r}: a county number is 1-2 digits, e.g. "46"')
                return None
            return Audience(county=text.zfill(2))
        if text not in MEMBER_KINDS:
            self.problem(
                (*path, name), f"{text!r}: the kind is {' or '.join(sorted(MEMBER_KINDS))}"
            )
            return None
        return Audience(kind=text)

    def parse_orgs(self, value: Any, path: Path_) -> tuple[str, ...] | None:
        """Organisation codes from a list or a comma-separated string; duplicates dropped."""
        written: list[tuple[Any, Path_]]
        if isinstance(value, list):
            written = [(item, (*path, number)) for number, item in enumerate(value)]
        else:
            text = self.parse_text(value, path)
            if text is None:
                return None
            written = [(part, path) for part in text.split(",") if part.strip()]
        if not written:
            self.problem(path, 'lists no organisations; e.g. orgs: ["3301", "46"]')
            return None
        before = len(self.problems)
        codes: list[str] = []
        for item, item_path in written:
            code = self.parse_text(item, item_path)
            if code is None:
                continue
            if not ORG_CODE.match(code):
                self.problem(
                    item_path,
                    f"{code!r} is not an organisation code: 4 digits (kommunenummer, "
                    "e.g. 3301) or 2 (fylkesnummer, e.g. 46)",
                )
            elif code not in codes:
                codes.append(code)
        return tuple(codes) if len(self.problems) == before else None

    def parse_reminders(self, value: Any, path: Path_) -> tuple[ReminderRule, ...] | None:
        if not isinstance(value, list):
            self.problem(path, f"must be a list of reminders like {REMINDER_FORMS}; [] for none")
            return None
        rules = [self.parse_reminder(item, (*path, number)) for number, item in enumerate(value)]
        return tuple(rule for rule in rules if rule is not None)

    def parse_reminder(self, item: Any, path: Path_) -> ReminderRule | None:
        if not isinstance(item, dict):
            self.problem(path, f"a reminder is {REMINDER_FORMS}")
            return None
        self.unknown_fields(item, path, REMINDER_FIELDS)
        calendar = "days_before" in item or "at" in item
        if calendar and "before" in item:
            self.problem(path, "either days_before + at, or before; not both")
            return None
        if not calendar and "before" not in item:
            self.problem(path, f"needs days_before + at, or before: {REMINDER_FORMS}")
            return None
        if "before" in item:
            span = self.parse_duration(item["before"], (*path, "before"))
            return ReminderRule(before=span) if span is not None else None
        days = at = None
        if "days_before" not in item:
            self.problem((*path, "days_before"), "missing: days before the closing day (0-60)")
        else:
            days = self.parse_days(item["days_before"], (*path, "days_before"))
        if "at" not in item:
            self.problem((*path, "at"), 'missing: the time of day, e.g. at: "09:00"')
        else:
            at = self.parse_clock(item["at"], (*path, "at"))
        if days is None or at is None:
            return None
        return ReminderRule(days_before=days, at=at)

    def parse_retention(self, value: Any, path: Path_) -> int | None:
        """Months after closing until free text and links to persons are erased."""
        text = self.parse_text(value, path)
        if text is None:
            return None
        if not text.isdigit() or not MIN_RETENTION_MONTHS <= int(text) <= MAX_RETENTION_MONTHS:
            self.problem(
                path,
                f"{text!r}: a whole number of months from {MIN_RETENTION_MONTHS} to "
                f"{MAX_RETENTION_MONTHS} (how long after closing free text and the link "
                "to who answered are kept)",
            )
            return None
        return int(text)

    def parse_days(self, value: Any, path: Path_) -> int | None:
        text = self.parse_text(value, path)
        if text is None:
            return None
        if not text.isdigit() or int(text) > MAX_DAYS_BEFORE:
            self.problem(
                path,
                f"{text!r}: a whole number of days from 0 to {MAX_DAYS_BEFORE} "
                "(0 is the closing day)",
            )
            return None
        return int(text)

    def parse_clock(self, value: Any, path: Path_) -> time | None:
        text = self.parse_text(value, path)
        if text is None:
            return None
        clock = _clock(text)
        if clock is None:
            self.problem(path, f'{text!r} is not a time of day: write HH:MM, e.g. "09:00"')
        return clock

    def parse_duration(self, value: Any, path: Path_) -> timedelta | None:
        text = self.parse_text(value, path)
        if text is None:
            return None
        match = DURATION.match(text)
        if match is None:
            self.problem(
                path, f"{text!r} is not a duration: a whole number and s, m, h or d, e.g. 2h"
            )
            return None
        seconds = int(match.group(1)) * DURATION_SECONDS[match.group(2)]
        if seconds <= 0:
            self.problem(path, f"{text!r}: the duration must be longer than zero")
            return None
        return timedelta(seconds=seconds)

    def parse_quiet_hours(self, value: Any, path: Path_) -> tuple[time | None, time | None] | None:
        text = self.parse_text(value, path)
        if text is None:
            return None
        if text.lower() == "off":
            return (None, None)
        match = QUIET_HOURS.match(text)
        start = _clock(match.group(1)) if match else None
        end = _clock(match.group(2)) if match else None
        if start is None or end is None:
            self.problem(path, f'{text!r}: write the quiet hours as "21:00-08:00", or "off"')
            return None
        if start == end:
            self.problem(path, f'{text!r}: start and end are the same; write "off" for none')
            return None
        return (start, end)

    def parse_holidays(self, value: Any, path: Path_) -> bool | None:
        """``quiet`` (no automatic messages on public holidays) or ``allowed``."""
        text = self.parse_text(value, path)
        if text is None:
            return None
        if text.lower() not in HOLIDAY_CHOICES:
            self.problem(
                path,
                f"{text!r}: write quiet (nothing automatic on Norwegian public holidays) "
                "or allowed",
            )
            return None
        return HOLIDAY_CHOICES[text.lower()]

    def parse_blackouts(self, value: Any) -> tuple[Blackout, ...]:
        """The plan's blackout periods; each problem recorded, the valid ones returned."""
        path: Path_ = ("blackouts",)
        if not isinstance(value, list):
            self.problem(path, "must be a list of periods (- name: ..., from: ..., to: ...)")
            return ()
        found = [self.parse_blackout(item, (*path, number)) for number, item in enumerate(value)]
        return tuple(blackout for blackout in found if blackout is not None)

    def parse_blackout(self, item: Any, path: Path_) -> Blackout | None:
        if not isinstance(item, dict):
            self.problem(path, "a blackout period is a mapping: name, from and to")
            return None
        before = len(self.problems)
        self.unknown_fields(item, path, BLACKOUT_FIELDS)
        name = first = last = None
        if "name" not in item:
            self.problem((*path, "name"), "missing: name the period, e.g. Fellesferie")
        else:
            name = self.parse_text(item["name"], (*path, "name"))
            if name is not None and not 1 <= len(name) <= MAX_BLACKOUT_NAME:
                self.problem((*path, "name"), f"must be 1-{MAX_BLACKOUT_NAME} characters")
        for field_ in ("from", "to"):
            if field_ not in item:
                self.problem((*path, field_), "missing: a date, e.g. 2027-07-01")
            elif field_ == "from":
                first = self.parse_date(item[field_], (*path, field_))
            else:
                last = self.parse_date(item[field_], (*path, field_))
        if first is not None and last is not None:
            if last < first:
                self.problem(
                    (*path, "to"), f"{last.isoformat()} is before from ({first.isoformat()})"
                )
            elif (last - first).days + 1 > MAX_BLACKOUT_DAYS:
                self.problem((*path, "to"), f"a period is at most {MAX_BLACKOUT_DAYS} days long")
        if len(self.problems) > before:
            return None
        assert name is not None and first is not None and last is not None
        return Blackout(name, first, last)

    def parse_date(self, value: Any, path: Path_) -> date | None:
        """A calendar date (whole days: no time of day)."""
        text = self.parse_text(value, path)
        if text is None:
            return None
        match = DATE.match(text)
        if match is None:
            self.problem(
                path, f"{text!r} is not a date: write 2027-07-01 (whole days, no time of day)"
            )
            return None
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            self.problem(path, f"{text!r}: there is no such date")
            return None

    def parse_boolean(self, value: Any, path: Path_) -> bool | None:
        text = self.parse_text(value, path)
        if text is None:
            return None
        if text.lower() not in BOOLEANS:
            self.problem(path, f"{text!r}: write true or false (or yes/no)")
            return None
        return BOOLEANS[text.lower()]

    def when(self, moment: datetime) -> str:
        """``Saturday 2027-01-16 09:00 (Europe/Oslo)``: unambiguous for admins."""
        local = moment.astimezone(self.zone)
        return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M} ({self.zone.key})"


def _clock(text: str) -> time | None:
    """``HH:MM`` (or ``H:MM``) as a time, None if it is not one."""
    match = CLOCK.match(text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _describe(rule: ReminderRule) -> str:
    """A reminder rule in the words of the file, for warnings."""
    if rule.before is not None:
        seconds = int(rule.before.total_seconds())
        unit = next(u for u in "dhms" if seconds % DURATION_SECONDS[u] == 0)
        return f"{seconds // DURATION_SECONDS[unit]}{unit} before closing"
    assert rule.at is not None
    days = "1 day" if rule.days_before == 1 else f"{rule.days_before} days"
    return f"{days} before closing at {rule.at:%H:%M}"
