"""The round report at full size: 371 submitted responses, every file, timed per stage.

A synthetic round (``tests/report_fixtures.py``: the same generator the tests use) is
written to a fresh SQLite file, or to ``--database-url`` (a throwaway database: the round,
its contacts and responses are added to it). Then the report is built stage by stage, as
``services.summaries.build_report`` does, and timed: importing the report modules (matplotlib
and openpyxl, paid once per CLI run), query + summary, summary.json, the chat text, the
charts, the workbook and the PDF. ``build_report`` itself is then run once more, warm,
under tracemalloc for the peak of Python allocations; max RSS is the whole process's.

    .venv/bin/python bench/report.py [--database-url URL] [--out DIR] [--min-group N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.summary import DEFAULT_MIN_GROUP  # noqa: E402
from services.surveys import SurveyCatalog  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import prepare_database  # noqa: E402
from tests.report_fixtures import generate_answers, member_facts, seed_report_round  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")
GOAL_S = 5.0


def _seconds(started: float) -> float:
    return round(time.perf_counter() - started, 3)


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-report-"))
    out = args.out or workdir / "report"
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"

    started = time.perf_counter()
    await prepare_database(url)
    orgs = member_facts()
    answers = generate_answers([org.code for org in orgs])
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        round_id = await seed_report_round(session, answers)
    setup_s = _seconds(started)

    stages: dict[str, float] = {}
    started = time.perf_counter()
    modules = [importlib.import_module(f"reports.{name}")
               for name in ("text", "charts", "workbook", "pdf", "build")]  # fmt: skip
    text_mod, charts_mod, workbook_mod, pdf_mod, build_mod = modules
    data_mod, summaries_mod = (importlib.import_module(f"services.{name}")
                               for name in ("report_data", "summaries"))  # fmt: skip
    stages["import_s"] = _seconds(started)

    started = time.perf_counter()
    async with sessions() as session:
        summary = await data_mod.build_summary(
            session, SurveyCatalog(), round_id, min_group=args.min_group
        )
    stages["query_and_summary_s"] = _seconds(started)

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    build_mod.write_summary_json(summary, out / build_mod.SUMMARY_JSON)
    stages["json_s"] = _seconds(started)

    started = time.perf_counter()
    text = text_mod.summary_text(summary, OSLO)
    (out / build_mod.SUMMARY_TEXT).write_text(text + "\n", encoding="utf-8")
    stages["text_s"] = _seconds(started)

    started = time.perf_counter()
    charts = charts_mod.render_charts(summary, out)
    stages["charts_s"] = _seconds(started)

    started = time.perf_counter()
    workbook_mod.write_workbook(summary, out / build_mod.WORKBOOK, zone=OSLO)
    stages["workbook_s"] = _seconds(started)

    started = time.perf_counter()
    pdf_mod.write_pdf(summary, out / build_mod.PDF, text=text, charts=charts)
    stages["pdf_s"] = _seconds(started)
    total_s = round(sum(stages.values()), 3)

    # The composed entry point, warm, under tracemalloc (which slows Python down).
    tracemalloc.start()
    started = time.perf_counter()
    async with sessions() as session:
        files = await summaries_mod.build_report(
            session, SurveyCatalog(), round_id, workdir / "again", OSLO, min_group=args.min_group
        )
    build_report_traced_s = _seconds(started)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await engine.dispose()

    group = summary.area_group("omrader")
    result = {
        "database": url.split(":")[0],
        "responses_submitted": summary.participation.submitted,
        "needs": sum(len(a.needs) for a in group.areas) if group else 0,
        "setup_s": setup_s,  # migrate, seed the members, write the round: not timed as report
        "stages": stages,
        "total_s": total_s,
        "total_without_import_s": round(total_s - stages["import_s"], 3),
        "goal_s": GOAL_S,
        "within_goal": total_s < GOAL_S,
        "build_report_warm_under_tracemalloc_s": build_report_traced_s,
        "tracemalloc_peak_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "text_chars": len(text),
        "files": {p.name: p.stat().st_size for p in files.paths()},
        "out": str(out),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--min-group", type=int, default=DEFAULT_MIN_GROUP)
    asyncio.run(main(parser.parse_args()))
