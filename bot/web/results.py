"""Resultater: a round's summary with its charts, the needs browser, and the report files.

Viewers read the summary (organisations named only where they consented, every figure
under the small-group rule, hidden ones as "–", as ``reports/summary.py`` decides) and browse the
needs without the names of those who did not consent. Staff also see every name, tag
needs, mark quotable ones, export the filtered list and build the report files.

Charts are drawn from the summary on demand and kept per round and data version (a
digest of the summary), so an answer that changes the figures gives new charts and an
unchanged round is drawn once per process. The report files are built by a "Lag
rapport" button and served only while the figures are those they were built from.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.overview import STATUS_NAMES
from bot.web.render import page
from bot.web.security import Handler, actor_of, guarded, path_id, see_other, visitor_of
from dialogs.action_texts import STATUS_NAMES as STATUS_NAMES_ACTIONS
from dialogs.dates import format_date
from dialogs.texts import antall
from reports.charts import ChartSpec, chart_note, chart_png, chart_specs, png_bytes
from reports.disclosure import rule_text, shown
from reports.format import nb_count, nb_decimal, nb_percent
from reports.summary import RoundSummary
from reports.trend_charts import TrendChartSpec, draw_trend, trend_chart_specs, trend_note
from reports.trend_text import county_trend_tables, trend_sentences, trend_tables
from reports.trends import Trends
from services import actions, audit
from services.need_groups import tag_counts
from services.need_tags import TagError, add_tag, remove_tag, set_quotable
from services.report_data import build_summary
from services.staff import has_role
from services.summaries import build_report
from services.trend_data import build_trends
from services.views_needs import (
    PAGE_SIZE,
    NeedError,
    NeedFilter,
    NeedKey,
    NeedsPage,
    browse_needs,
    needs_xlsx,
)
from services.views_rounds import RoundRow, round_row, round_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_FILES = {"pdf": "application/pdf", "xlsx": XLSX}
REPORT_NAME = "lyttepost-rapport-runde-{round_id}.{ext}"
MAX_PNGS = 200  # charts kept per process (some 50 kB each)
MAX_VERSIONS = 50  # rounds' chart lists kept per process
MAX_REPORTS = 20  # rounds whose report files are kept per process
MAX_FIELD = 200  # longest filter value read from a query string
YES_NO = {"ja": True, "nei": False}
DONE = {"rapport": "Rapportfilene er laget og kan lastes ned."}


# --- what the process keeps ----------------------------------------------------------------


@dataclass(frozen=True)
class BuiltReport:
    """A round's report files, built from the summary with data version ``version``."""

    version: str
    built_at: datetime
    built_by: str
    files: dict[str, bytes]  # "pdf" / "xlsx" -> content


@dataclass
class ResultCache:
    """Charts per round and data version, and each round's last report files: one per
    process, bounded (the oldest are forgotten first)."""

    charts: OrderedDict[tuple[int, str], tuple[str, tuple[ChartSpec, ...]]] = field(
        default_factory=OrderedDict
    )
    pngs: OrderedDict[tuple[int, str, str], bytes] = field(default_factory=OrderedDict)
    reports: OrderedDict[int, BuiltReport] = field(default_factory=OrderedDict)
    trend_charts: OrderedDict[tuple[int, str], tuple[str, tuple[TrendChartSpec, ...]]] = field(
        default_factory=OrderedDict
    )

    def remember_charts(self, round_id: int, version: str, summary: RoundSummary) -> None:
        key = (round_id, version)
        if key not in self.charts:
            self.charts[key] = (chart_note(summary), tuple(chart_specs(summary)))
        _bound(self.charts, MAX_VERSIONS, key)

    def remember_trend_charts(self, round_id: int, version: str, trends: Trends) -> None:
        key = (round_id, version)
        if key not in self.trend_charts:
            self.trend_charts[key] = (trend_note(trends), tuple(trend_chart_specs(trends)))
        _bound(self.trend_charts, MAX_VERSIONS, key)

    def remember_png(self, key: tuple[int, str, str], png: bytes) -> None:
        self.pngs[key] = png
        _bound(self.pngs, MAX_PNGS, key)

    def remember_report(self, round_id: int, report: BuiltReport) -> None:
        self.reports[round_id] = report
        _bound(self.reports, MAX_REPORTS, round_id)


def _bound(store: OrderedDict[Any, Any], limit: int, key: Any) -> None:
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def result_cache(workspace: Workspace) -> ResultCache:
    """The process's ``ResultCache`` (made on first use)."""
    found = workspace.extras.get("results")
    if not isinstance(found, ResultCache):
        found = ResultCache()
        workspace.extras["results"] = found
    return found


def data_version(summary: RoundSummary) -> str:
    """A digest of everything the summary says: it changes exactly when a figure, a text or
    a name in it does (an erased free text included)."""
    document = json.dumps(summary.to_json(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()[:24]


# --- reading the request -----------------------------------------------------------------


def _is_staff(request: web.Request) -> bool:
    return has_role(visitor_of(request).staff, "staff")


def _field(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "")
    return " ".join(value.split())[:MAX_FIELD] if isinstance(value, str) else ""


def _small_number(value: str, largest: int) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 6 and 0 < int(value) <= largest else None


@dataclass(frozen=True)
class NeedQuery:
    """The needs browser's GET form, read leniently: a value that makes no sense (an
    urgency of "abc", page -1) is dropped, never an error."""

    filters: NeedFilter
    chosen: dict[str, str]  # the form's fields as understood, to fill the form and links
    page: int


NEED_FIELDS = (
    "runde",
    "omrade",
    "haster",
    "alene",
    "hvem",
    "org",
    "fylke",
    "merke",
    "sitat",
    "nytt",
    "sok",
)


def read_need_query(query: Mapping[str, str], round_id: int | None) -> NeedQuery:
    """The filters and page a needs browser URL asks for (``round_id`` from the path wins)."""
    chosen = {name: _field(query, name) for name in NEED_FIELDS}
    if round_id is not None or _small_number(chosen["runde"], 10**9) is None:
        chosen["runde"] = ""
    if _small_number(chosen["haster"], 100) is None:
        chosen["haster"] = ""
    for name in ("alene", "sitat", "nytt"):
        if chosen[name] not in YES_NO:
            chosen[name] = ""
    if chosen["fylke"] and not (chosen["fylke"].isdigit() and len(chosen["fylke"]) <= 2):
        chosen["fylke"] = ""
    if chosen["org"] and not (chosen["org"].isdigit() and len(chosen["org"]) <= 4):
        chosen["org"] = ""
    page_number = _small_number(_field(query, "side"), 10**6) or 1
    filters = NeedFilter(
        round_id=round_id if round_id is not None else _small_number(chosen["runde"], 10**9),
        area=chosen["omrade"] or None,
        urgency=_small_number(chosen["haster"], 100),
        can_solve_alone=YES_NO.get(chosen["alene"]),
        help_from=chosen["hvem"] or None,
        org=chosen["org"] or None,
        county=chosen["fylke"] or None,
        text=chosen["sok"] or None,
        tag=chosen["merke"] or None,
        quotable=YES_NO.get(chosen["sitat"]),
        new_area=YES_NO.get(chosen["nytt"]),
    )
    return NeedQuery(filters, {k: v for k, v in chosen.items() if v}, page_number)


def describe_filters(needs: NeedsPage, chosen: Mapping[str, str]) -> list[str]:
    """The filters in force in words (for the page and the exported sheet)."""
    choices = needs.choices

    def label(options: tuple[Any, ...], value: str) -> str:
        return next((c.label for c in options if c.value == value), value)

    words = {
        "runde": lambda v: f"Runde: {label(choices.rounds, v)}",
        "omrade": lambda v: f"Område: {label(choices.areas, v)}",
        "haster": lambda v: f"Hvor mye det haster: {v}",
        "alene": lambda v: "Kan løses alene" if v == "ja" else "Kan ikke løses alene",
        "hvem": lambda v: f"Trenger hjelp fra: {v}",
        "org": lambda v: f"Organisasjonsnummer: {v}",
        "fylke": lambda v: f"Fylke: {label(choices.counties, v.zfill(2))}",
        "merke": lambda v: f"Merkelapp: {v}",
        "sitat": lambda v: "Bare sitérbare" if v == "ja" else "Bare de som ikke er sitérbare",
        "nytt": lambda v: (
            "Bare nye områder for organisasjonen"
            if v == "ja"
            else "Bare områder valgt også forrige gang"
        ),
        "sok": lambda v: f"Søk: «{v}»",
    }
    return [words[name](chosen[name]) for name in NEED_FIELDS if chosen.get(name)]


def safe_back(value: str, fallback: str) -> str:
    """Where to go after a change: a path in the results pages of this site, else
    ``fallback`` (never another site, never a header break)."""
    parts = urlsplit(value)
    if (
        not value.startswith("/resultater")
        or parts.scheme
        or parts.netloc
        or "\\" in value
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
        or len(value) > 2000
    ):
        return fallback
    return value


def anchor(key: NeedKey) -> str:
    """An element id for a need, so a change returns to its place in the list."""
    safe = "".join(ch if ch.isalnum() else "-" for ch in key.question_id)
    return f"behov-{key.response_id}-{safe}"


# --- the list of rounds ----------------------------------------------------------------------


@guarded("viewer")
async def results_index(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        rounds = await round_rows(session)
    shown = [r for r in reversed(rounds) if r.status in ("open", "closed")]
    return page(
        request,
        "results.html",
        {
            "live": [r for r in shown if r.status == "open"],
            "closed": [r for r in shown if r.status == "closed"],
            "status_names": STATUS_NAMES,
        },
        title="Resultater",
    )


# --- a round's summary -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShownChart:
    key: str
    title: str
    url: str
    alt: str


async def _round(workspace: Workspace, round_id: int) -> RoundRow:
    async with workspace.sessions() as session:
        try:
            return await round_row(session, round_id)
        except LookupError:
            raise web.HTTPNotFound() from None


def trends_version(trends: Trends) -> str:
    """A digest of every trend figure, as ``data_version`` is of the summary."""
    document = json.dumps(trends.to_json(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()[:24]


async def _trends(workspace: Workspace, round_id: int) -> Trends | None:
    async with workspace.sessions() as session:
        try:
            return await build_trends(session, workspace.catalog, round_id)
        except LookupError:
            raise web.HTTPNotFound() from None


async def _summary(workspace: Workspace, round_id: int) -> tuple[RoundSummary, str]:
    async with workspace.sessions() as session:
        try:
            summary = await build_summary(session, workspace.catalog, round_id)
        except LookupError:
            raise web.HTTPNotFound() from None
    return summary, data_version(summary)


@guarded("viewer")
async def summary_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    row = await _round(workspace, round_id)
    context: dict[str, Any] = {
        "round": row,
        "status_names": STATUS_NAMES,
        "summary": None,
        "charts": [],
        "report": None,
        "report_current": False,
        "trends": None,
        "trend_tables": [],
        "county_trend_tables": [],
        "trend_sentences": [],
        "trend_charts": [],
        "may_build": _is_staff(request),
        "notice": DONE.get(request.query.get("utfort", ""), ""),
        # a figure the small-group rule hides is None and reads "–"
        "andel": lambda value: shown(value, nb_percent),
        "desimal": lambda value: shown(value, nb_decimal),
        "tall": lambda value: shown(value, nb_count),
        "antall": antall,
        "tag_counts": [],
        "regel": rule_text(),
    }
    if row.status == "planned":
        return page(request, "result.html", context, title=f"Resultater: {row.title}")
    summary, version = await _summary(workspace, round_id)
    cache = result_cache(workspace)
    cache.remember_charts(round_id, version, summary)
    _, specs = cache.charts[(round_id, version)]
    report = cache.reports.get(round_id)
    needs = {area.value: len(area.needs) for g in summary.area_groups for area in g.areas}
    trends = await _trends(workspace, round_id)
    trend_charts: list[ShownChart] = []
    if trends is not None:
        trend_version = trends_version(trends)
        cache.remember_trend_charts(round_id, trend_version, trends)
        _, trend_specs = cache.trend_charts[(round_id, trend_version)]
        trend_charts = [
            ShownChart(
                spec.key,
                spec.title,
                f"/resultater/{round_id}/utvikling/{quote(spec.key, safe='')}.png?v={trend_version}",
                spec.alt_text(),
            )
            for spec in trend_specs
        ]
    async with workspace.sessions() as session:
        counted = await tag_counts(session, workspace.catalog, round_id, workspace.needs)
    context |= {
        "trends": trends,
        "trend_tables": trend_tables(trends),
        "county_trend_tables": county_trend_tables(trends),
        "trend_sentences": trend_sentences(trends),
        "trend_charts": trend_charts,
        "trend_dates": [format_date(r.date, workspace.zone) for r in trends.rounds]
        if trends
        else [],
        "summary": summary,
        "regel": rule_text(summary.min_group),
        "charts": [
            ShownChart(
                spec.key,
                spec.title,
                f"/resultater/{round_id}/diagram/{quote(spec.key, safe='')}.png?v={version}",
                spec.alt_text(),
            )
            for spec in specs
        ],
        "report": report,
        "report_current": report is not None and report.version == version,
        "needs_per_area": needs,
        "needs_total": sum(needs.values()),
        "tag_counts": [area for area in counted if area.tags],
    }
    return page(request, "result.html", context, title=f"Resultater: {row.title}")


@guarded("viewer")
async def chart(request: web.Request) -> web.StreamResponse:
    """One chart of a round's summary as PNG. ``?v=`` names the data version the page was
    drawn from; an unknown or old one gets the current figures."""
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    name = request.match_info["name"]
    cache = result_cache(workspace)
    asked = request.query.get("v", "")
    version = asked if (round_id, asked) in cache.charts else ""
    if not version:
        summary, version = await _summary(workspace, round_id)
        cache.remember_charts(round_id, version, summary)
    note, specs = cache.charts[(round_id, version)]
    spec = next((s for s in specs if s.key == name), None)
    if spec is None:
        raise web.HTTPNotFound()
    key = (round_id, version, name)
    png = cache.pngs.get(key)
    if png is None:
        png = await asyncio.to_thread(chart_png, spec, note)
        cache.remember_png(key, png)
    response = web.Response(body=png, content_type="image/png")
    response.headers["Content-Disposition"] = f'inline; filename="runde-{round_id}-{name}.png"'
    if version == asked:  # the URL names exactly these figures
        response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@guarded("viewer")
async def trend_chart(request: web.Request) -> web.StreamResponse:
    """One change chart of a round's trends as PNG (``?v=`` as for ``chart``)."""
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    name = request.match_info["name"]
    cache = result_cache(workspace)
    asked = request.query.get("v", "")
    version = asked if (round_id, asked) in cache.trend_charts else ""
    if not version:
        trends = await _trends(workspace, round_id)
        if trends is None:
            raise web.HTTPNotFound()
        version = trends_version(trends)
        cache.remember_trend_charts(round_id, version, trends)
    note, specs = cache.trend_charts[(round_id, version)]
    spec = next((s for s in specs if s.key == name), None)
    if spec is None:
        raise web.HTTPNotFound()
    key = (round_id, "trend-" + version, name)
    png = cache.pngs.get(key)
    if png is None:
        png = await asyncio.to_thread(lambda: png_bytes(draw_trend(spec, note)))
        cache.remember_png(key, png)
    response = web.Response(body=png, content_type="image/png")
    response.headers["Content-Disposition"] = f'inline; filename="runde-{round_id}-{name}.png"'
    if version == asked:
        response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# --- the report files -----------------------------------------------------------------------


@guarded("staff")
async def build_report_files(request: web.Request) -> web.StreamResponse:
    """Build the round's report (PDF and XLSX, as ``lyttepost report build`` writes them)
    from the figures as they are now, and keep it for downloading."""
    workspace = workspace_of(request)
    round_id = path_id(request, "round_id")
    row = await _round(workspace, round_id)
    if row.status == "planned":
        raise web.HTTPNotFound()
    summary, version = await _summary(workspace, round_id)
    with tempfile.TemporaryDirectory(prefix="lyttepost-web-report-") as folder:
        # As ``lyttepost report build`` writes it: trends and the actions so far included.
        async with workspace.sessions() as session:
            built = await build_report(
                session, workspace.catalog, round_id, Path(folder), workspace.zone
            )
        files = {"xlsx": built.workbook.read_bytes()}
        if built.pdf is not None:
            files["pdf"] = built.pdf.read_bytes()
    now = workspace.now()
    visitor = visitor_of(request)
    async with workspace.sessions.begin() as session:
        audit.record(
            session, actor_of(request), "report.build", f"round:{round_id}", now,
            files=sorted(files), version=version,
        )  # fmt: skip
    cache = result_cache(workspace)
    cache.remember_report(round_id, BuiltReport(version, now, visitor.staff.name, files))
    cache.remember_charts(round_id, version, summary)
    return see_other(f"/resultater/{round_id}?utfort=rapport#rapport")


def _report_download(ext: str) -> Handler:
    @guarded("viewer")
    async def download(request: web.Request) -> web.StreamResponse:
        workspace = workspace_of(request)
        round_id = path_id(request, "round_id")
        _, version = await _summary(workspace, round_id)
        report = result_cache(workspace).reports.get(round_id)
        if report is None or report.version != version or ext not in report.files:
            return page(
                request,
                "refused.html",
                {
                    "text": "Rapportfilene er ikke laget for tallene slik de er nå. "
                    "En medarbeider i KS kan lage dem på resultatsiden.",
                    "back": f"/resultater/{round_id}#rapport",
                },
                title="Rapporten er ikke laget",
                status=404,
            )
        name = REPORT_NAME.format(round_id=round_id, ext=ext)
        return web.Response(
            body=report.files[ext],
            content_type=REPORT_FILES[ext],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    download.__name__ = f"report_{ext}"
    return download


# --- the needs browser ------------------------------------------------------------------------


async def _needs(
    request: web.Request, round_id: int | None, wanted: NeedQuery
) -> tuple[NeedsPage, int]:
    workspace = workspace_of(request)
    names = _is_staff(request)
    number = wanted.page
    async with workspace.sessions() as session:
        found = await browse_needs(
            session, workspace.catalog, wanted.filters, offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE, show_names=names, cache=workspace.needs,
        )  # fmt: skip
        last = max(1, -(-found.total // PAGE_SIZE))
        if number > last:  # past the end (an old link): the last page
            number = last
            found = await browse_needs(
                session, workspace.catalog, wanted.filters, offset=(number - 1) * PAGE_SIZE,
                limit=PAGE_SIZE, show_names=names, cache=workspace.needs,
            )  # fmt: skip
    return found, number


def _link(base: str, chosen: Mapping[str, str], side: int = 1) -> str:
    """``base`` with the chosen filters (and a page after the first) as its query."""
    fields = dict(chosen) | ({"side": str(side)} if side > 1 else {})
    return base + ("?" + urlencode(fields) if fields else "")


def _count(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 9 else None


async def _link_choices(request: web.Request) -> tuple[list[tuple[int, str, str]], int | None]:
    """Staff's actions to link ticked needs to, and the one the URL (``?tiltak=``) pre-sets
    (from an action's page), if it is one of them."""
    if not _is_staff(request):
        return [], None
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        choices = await actions.action_choices(session)
    wanted = _count(request.query.get("tiltak", ""))
    return choices, wanted if any(c[0] == wanted for c in choices) else None


def _linked_notice(
    query: Mapping[str, str], choices: list[tuple[int, str, str]], action_id: int | None
) -> str:
    """What linking ticked needs did, from the redirect's query (``knyttet``, ``fortalt``)."""
    linked, told = _count(query.get("knyttet", "")), _count(query.get("fortalt", ""))
    title = next((t for i, t, _ in choices if i == action_id), None)
    if linked is None or title is None:
        return ""
    if not linked:
        return f"Behovene du valgte, var allerede knyttet til tiltaket «{title}»."
    notice = f"{antall(linked, 'behov', 'behov')} er knyttet til tiltaket «{title}»."
    if told:
        notice += f" {antall(told, 'organisasjon', 'organisasjoner')} får melding i chat."
    return notice


async def _needs_page(request: web.Request, round_id: int | None) -> web.StreamResponse:
    workspace = workspace_of(request)
    row = await _round(workspace, round_id) if round_id is not None else None
    wanted = read_need_query(request.query, round_id)
    found, number = await _needs(request, round_id, wanted)
    base = f"/resultater/{round_id}/behov" if round_id is not None else "/resultater/behov"
    pages = max(1, -(-found.total // PAGE_SIZE))
    action_choices, action_id = await _link_choices(request)
    # An action pre-set from its page stays chosen across filters and pages.
    keep = {"tiltak": str(action_id)} if action_id is not None else {}
    here = _link(base, wanted.chosen | keep, number)
    title = f"Behov: {row.title}" if row is not None else "Behov i alle runder"
    return page(
        request,
        "needs.html",
        {
            "round": row,
            "found": found,
            "chosen": wanted.chosen,
            "described": describe_filters(found, wanted.chosen),
            "base": base,
            "here": here,
            "export": _link(base + "/eksport", wanted.chosen),
            "page_number": number,
            "pages": pages,
            "previous": _link(base, wanted.chosen | keep, number - 1) if number > 1 else "",
            "next": _link(base, wanted.chosen | keep, number + 1) if number < pages else "",
            "reset": _link(base, keep),
            "action_choices": action_choices,
            "action_id": action_id,
            "action_title": next((t for i, t, _ in action_choices if i == action_id), ""),
            "status_names": STATUS_NAMES_ACTIONS,
            "notice": _linked_notice(request.query, action_choices, action_id),
            "first_shown": found.offset + 1 if found.needs else 0,
            "last_shown": found.offset + len(found.needs),
            "may_tag": _is_staff(request),
            "anchor": anchor,
            "antall": antall,
            "page_size": PAGE_SIZE,
        },
        title=title,
    )


@guarded("viewer")
async def needs_of_round(request: web.Request) -> web.StreamResponse:
    return await _needs_page(request, path_id(request, "round_id"))


@guarded("viewer")
async def needs_of_all_rounds(request: web.Request) -> web.StreamResponse:
    return await _needs_page(request, None)


async def _export(request: web.Request, round_id: int | None) -> web.StreamResponse:
    workspace = workspace_of(request)
    row = await _round(workspace, round_id) if round_id is not None else None
    wanted = read_need_query(request.query, round_id)
    found, _ = await _needs(request, round_id, NeedQuery(wanted.filters, wanted.chosen, 1))
    title = f"Behov: {row.title}" if row is not None else "Behov i alle runder"
    async with workspace.sessions() as session:
        content = await needs_xlsx(
            session, workspace.catalog, wanted.filters, show_names=True, title=title,
            description=describe_filters(found, wanted.chosen), cache=workspace.needs,
        )  # fmt: skip
    name = f"lyttepost-behov-runde-{round_id}.xlsx" if row else "lyttepost-behov-alle-runder.xlsx"
    return web.Response(
        body=content,
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@guarded("staff")
async def export_round(request: web.Request) -> web.StreamResponse:
    return await _export(request, path_id(request, "round_id"))


@guarded("staff")
async def export_all(request: web.Request) -> web.StreamResponse:
    return await _export(request, None)


# --- tags and quotable marks ------------------------------------------------------------------


def _form_text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


async def _change_need(request: web.Request, what: str) -> web.StreamResponse:
    """Add or remove a label, or set the quotable mark; audited; back to the same list."""
    workspace = workspace_of(request)
    form = await request.post()
    back = safe_back(_form_text(form, "tilbake"), "/resultater/behov")
    now = workspace.now()
    actor = actor_of(request)
    try:
        key = NeedKey.parse(_form_text(form, "behov"))
        async with workspace.sessions.begin() as session:
            if what == "tag":
                added = await add_tag(
                    session, workspace.catalog, key, _form_text(form, "merkelapp"),
                    actor=actor.label, now=now,
                )  # fmt: skip
                audit.record(session, actor, "need.tag", f"need:{key.token}", now,
                             label=added.label, changed=added.changed)  # fmt: skip
            elif what == "untag":
                removed = await remove_tag(session, key, _form_text(form, "merkelapp"))
                audit.record(session, actor, "need.untag", f"need:{key.token}", now,
                             label=removed.label, changed=removed.changed)  # fmt: skip
            else:
                wanted = _form_text(form, "siterbar") == "ja"
                marked = await set_quotable(
                    session, workspace.catalog, key, wanted, actor=actor.label, now=now
                )
                audit.record(session, actor, "need.quotable", f"need:{key.token}", now,
                             quotable=marked.quotable, changed=marked.changed)  # fmt: skip
    except TagError as error:
        return _problem(request, str(error), back, 422)
    except NeedError:
        return _problem(request, "fant ikke behovet; det kan være slettet", back, 404)
    return see_other(f"{back}#{anchor(key)}")


@guarded("staff")
async def link_to_action(request: web.Request) -> web.StreamResponse:
    """Link the needs ticked in the browser to the action chosen; back to the same list,
    with the action kept chosen and what was done in a notice."""
    workspace = workspace_of(request)
    form = await request.post()
    back = safe_back(_form_text(form, "tilbake"), "/resultater/behov")
    action_id = _count(_form_text(form, "tiltak"))
    if action_id is None:
        return _problem(request, "velg tiltaket behovene skal knyttes til", back, 422)
    try:
        keys = [NeedKey.parse(v) for v in form.getall("behov", []) if isinstance(v, str)]
        if not keys:
            return _problem(
                request, "velg minst ett behov ved å krysse av for det i listen", back, 422
            )
        async with workspace.sessions.begin() as session:
            linked = await actions.link_needs(
                session, workspace.catalog, action_id, keys, actor=actor_of(request),
                now=workspace.now(),
            )  # fmt: skip
    except actions.ActionError as error:
        return _problem(request, str(error), back, 422)
    except NeedError:
        return _problem(request, "fant ikke ett av behovene; det kan være slettet", back, 404)
    parts = urlsplit(back)
    query = {k: v for k, v in parse_qsl(parts.query) if k not in ("tiltak", "knyttet", "fortalt")}
    query |= {
        "tiltak": str(action_id),
        "knyttet": str(len(linked.changed)),
        "fortalt": str(linked.organisations_told),
    }
    return see_other(f"{parts.path}?{urlencode(query)}#treff")


def _problem(request: web.Request, message: str, back: str, status: int) -> web.StreamResponse:
    return page(
        request,
        "refused.html",
        {"text": message[:1].upper() + message[1:] + ".", "back": back},
        title="Det gikk ikke",
        status=status,
    )


@guarded("staff")
async def tag_need(request: web.Request) -> web.StreamResponse:
    return await _change_need(request, "tag")


@guarded("staff")
async def untag_need(request: web.Request) -> web.StreamResponse:
    return await _change_need(request, "untag")


@guarded("staff")
async def mark_quotable(request: web.Request) -> web.StreamResponse:
    return await _change_need(request, "quotable")


def add_result_routes(app: web.Application) -> None:
    one = r"/resultater/{round_id:\d+}"
    app.router.add_get("/resultater", results_index)
    app.router.add_get("/resultater/behov", needs_of_all_rounds)
    app.router.add_get("/resultater/behov/eksport", export_all)
    app.router.add_post("/resultater/behov/merkelapp", tag_need)
    app.router.add_post("/resultater/behov/fjern-merkelapp", untag_need)
    app.router.add_post("/resultater/behov/siterbar", mark_quotable)
    app.router.add_post("/resultater/behov/knytt-tiltak", link_to_action)
    app.router.add_get(one, summary_page)
    app.router.add_get(one + r"/diagram/{name:[A-Za-z0-9_.-]+}.png", chart)
    app.router.add_get(one + r"/utvikling/{name:[A-Za-z0-9_.-]+}.png", trend_chart)
    app.router.add_post(one + "/rapport", build_report_files)
    app.router.add_get(one + "/rapport.pdf", _report_download("pdf"))
    app.router.add_get(one + "/rapport.xlsx", _report_download("xlsx"))
    app.router.add_get(one + "/behov", needs_of_round)
    app.router.add_get(one + "/behov/eksport", export_round)
