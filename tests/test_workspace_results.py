"""Resultater over HTTP on SQLite and PostgreSQL: the round list, a summary with its real
figures and charts, the needs browser (filters, search, names, paging), staff's tags and
quotable marks with their audit entries, the XLSX export and the report files.

The responses are constructed (tests/views_support.py), so every figure is known.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from bot.web.results import read_need_query, safe_back
from services import audit
from services.views_needs import NeedKey
from tests.views_support import NOW, make_round, need_answers, respond
from tests.workspace_support import Browser, WorkspaceSite, csrf_in, workspace_site

PNG = b"\x89PNG\r\n\x1a\n"
NEED_TEXT = re.compile(r'<p class="need-text"[^>]*>(.*?)</p>', re.S)


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


@dataclass(frozen=True)
class World:
    spring: int  # closed: six members, five answered
    autumn: int  # open: one answer so far
    planned: int
    drammen: int
    kongsberg: int
    bergen: int


async def world(site: WorkspaceSite) -> World:
    """A closed round in Buskerud (three answers), Vestland (two) and Oslo (none); an open
    round with one answer; a planned round. Drammen and Bergen agreed to be named."""
    async with site.sessions.begin() as session:
        spring = await make_round(
            session, "Vår 2027", ["3301", "3303", "3305", "4601", "4602", "0301"],
            status="closed", opens_at=NOW - timedelta(days=60), closes_at=NOW - timedelta(days=30),
        )  # fmt: skip
        drammen = await respond(session, spring, "3301", need_answers(
            {"digitalisering": ("Felles saksbehandlingssystem", 5, False, ["ks", "naboer"]),
             "helse": ("Rekruttering av sykepleiere", 4, True, None)},
            named=True, extra={"annet": "Takk for et godt samarbeid"}))  # fmt: skip
        kongsberg = await respond(session, spring, "3303", need_answers(
            {"helse": ("Flere fastleger i distriktet", 5, False, ["staten"])},
            extra={"annet": "En kommentar uten navn"}))  # fmt: skip
        await respond(session, spring, "3305", need_answers(
            {"helse": ("Legevakt døgnet rundt", 3, False, ["naboer"])}))  # fmt: skip
        bergen = await respond(session, spring, "4601", need_answers(
            {"helse": ("Hjemmetjenester med velferdsteknologi", 5, False, ["ks"]),
             "okonomi": ("Økonomisk handlingsrom", 2, True, None)}, named=True))  # fmt: skip
        await respond(session, spring, "4602", need_answers(
            {"digitalisering": ("Bredbånd til alle grender", 4, False, ["staten", "fylke"])}))  # fmt: skip
        autumn = await make_round(session, "Høst 2027", ["5001", "3301"])
        await respond(session, autumn, "5001", need_answers(
            {"helse": ("Behov fra høstrunden", 2, True, None)}))  # fmt: skip
        planned = await make_round(
            session, "Vinter 2028", ["5001"], status="planned",
            opens_at=NOW + timedelta(days=30), closes_at=NOW + timedelta(days=50),
        )  # fmt: skip
    return World(spring, autumn, planned, drammen, kongsberg, bergen)


async def page_of(browser: Browser, path: str) -> str:
    response = await browser.get(path)
    assert response.status == 200, (path, response.status, await response.text())
    return await response.text()


def need_texts(page: str) -> list[str]:
    return [html.unescape(text) for text in NEED_TEXT.findall(page)]


# --- the list of rounds and a summary ---------------------------------------------------------


async def test_the_round_list_offers_the_closed_rounds_and_the_open_one_live(
    site: WorkspaceSite,
) -> None:
    await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    page = await page_of(viewer, "/resultater")
    live, closed = page.split("<h2>Stengte runder</h2>")
    assert "Høst 2027" in live and "live" in live and "Vår 2027" not in live
    assert "Vår 2027" in closed and "5 av 6" in closed
    assert "Vinter 2028" not in page  # planned: nothing to show yet
    assert '<a href="/resultater" aria-current="page">Resultater</a>' in page


async def test_the_summary_shows_the_rounds_real_figures_and_charts(site: WorkspaceSite) -> None:
    w = await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    page = html.unescape(await page_of(viewer, f"/resultater/{w.spring}"))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "83 % har svart (5 av 6 medlemmer)" in text
    assert "Foreløpige tall" not in text
    # The small-group rule (threshold 5): Helse og omsorg was chosen by 4 of the 5, so the
    # one who did not is as exposed as the four who did: every figure about it is hidden.
    # Its needs are free text and follow the consent rules only.
    assert "Helse og omsorg – – – – av – 4 behov om Helse og omsorg" in text
    assert "Digitalisering – – – – av – 2 behov" in text
    assert "Tall som bygger på færre enn 5 organisasjoner, vises ikke («–»)" in text
    assert "80 %" not in text and "4,3" not in text and "4,25" not in text
    assert f'href="/resultater/{w.spring}/behov?omrade=helse"' in page
    # Per county: Vestland (two answers) is hidden, and Buskerud (three) with it.
    assert "Vestland – skjult: færre enn 5 svar" in text
    assert "Buskerud – skjult: færre enn 5 svar" in text
    # Free text: Drammen agreed to be named with it; Kongsberg did not.
    assert "Takk for et godt samarbeid Drammen (Buskerud)" in text
    assert "En kommentar uten navn uten navn" in text
    assert "Kongsberg" not in text and "Ringerike" not in text
    # Charts as images from this site, each with the figures in its alt text.
    charts = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page)
    assert [src.split("?")[0].rsplit("/", 1)[1] for src, _ in charts] == [
        "omrader.png", "omrader-samarbeid.png", "fra_ks.png", "fornoyd.png", "deltakelse.png",
    ]  # fmt: skip
    areas_alt = charts[0][1]
    assert "Helse og omsorg: skjult" in areas_alt and "80 %" not in areas_alt
    assert "Kommunestruktur og samarbeid: 0 %" in areas_alt  # none of the five chose it
    assert "Vestland: 100 % (2 av 2)" in dict(charts)[charts[-1][0]]
    src = charts[0][0]
    first = await viewer.get(src)
    assert first.status == 200 and first.content_type == "image/png"
    body = await first.read()
    assert body.startswith(PNG) and len(body) > 5_000
    assert first.headers["Cache-Control"] == "private, max-age=3600"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    again = await viewer.get(src)
    assert await again.read() == body  # drawn once, kept for this data version
    old = await viewer.get(src.split("?")[0] + "?v=old")
    assert old.status == 200 and await old.read() == body  # the current figures ...
    assert old.headers["Cache-Control"] == "no-store"  # ... not cached under an old name
    for missing in (
        f"/resultater/{w.spring}/diagram/finnes-ikke.png",
        "/resultater/99999",
        "/resultater/99999/diagram/omrader.png",
    ):
        assert (await viewer.get(missing)).status == 404, missing
    planned = await page_of(viewer, f"/resultater/{w.planned}")
    assert "har ikke åpnet ennå" in planned


async def test_a_round_of_twelve_shows_its_real_figures_and_charts(site: WorkspaceSite) -> None:
    """Twelve answers in Buskerud: every figure rests on five or more organisations."""
    codes = ["3301", "3303", "3305", "3310", "3312", "3314", "3316", "3318", "3320", "3322",
             "3324", "3326"]  # fmt: skip
    async with site.sessions.begin() as session:
        summer = await make_round(
            session, "Sommer 2027", codes, status="closed",
            opens_at=NOW - timedelta(days=60), closes_at=NOW - timedelta(days=30),
        )  # fmt: skip
        for index, code in enumerate(codes):
            areas = {"helse": ("Behov om helse", 4 if index < 6 else 5, index % 2 == 0, None)}
            if index < 6:
                areas["digitalisering"] = ("Behov om digitalisering", 3, False, ["ks"])
            await respond(session, summer, code, need_answers(areas))
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    page = html.unescape(await page_of(viewer, f"/resultater/{summer}"))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    # Helse: all 12, urgency (6 × 4 + 6 × 5) / 12 = 4,5, six of them cannot solve it alone.
    assert "Helse og omsorg 12 100 % 4,5 6 av 12 12 behov om Helse og omsorg" in text
    # Digitalisering: 6 of 12, urgency 3, none of the six can solve it alone.
    assert "Digitalisering 6 50 % 3,0 6 av 6 6 behov" in text
    assert "Buskerud 12 " in text
    charts = dict(re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page))
    areas_alt = next(alt for alt in charts.values() if alt.startswith("Viktigste områder"))
    assert "Helse og omsorg: 100 % · haster 4,5" in areas_alt
    assert "Digitalisering: 50 % · haster 3,0" in areas_alt


async def test_the_open_rounds_summary_is_live_and_its_charts_follow_the_figures(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    before = await page_of(viewer, f"/resultater/{w.autumn}")
    assert "Foreløpige tall" in before and "50 %" in before
    async with site.sessions.begin() as session:
        await respond(session, w.autumn, "3301", need_answers({"okonomi": ("Mer", 3, True, None)}))
    after = await page_of(viewer, f"/resultater/{w.autumn}")
    assert "100 %" in after

    def chart_urls(page: str) -> list[str]:
        return re.findall(r'<img src="([^"]+)"', page)

    assert chart_urls(before) != chart_urls(after)  # a new data version, new pictures
    response = await viewer.get(html.unescape(chart_urls(after)[-1]))
    assert response.status == 200 and (await response.read()).startswith(PNG)


# --- the needs browser ---------------------------------------------------------------------------


async def test_the_needs_browser_filtered_by_area_and_urgency_lists_exactly_those(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    base = f"/resultater/{w.spring}/behov"
    everything = await page_of(staff, base)
    assert need_texts(everything) == [
        "Felles saksbehandlingssystem", "Bredbånd til alle grender", "Økonomisk handlingsrom",
        "Flere fastleger i distriktet", "Hjemmetjenester med velferdsteknologi",
        "Rekruttering av sykepleiere", "Legevakt døgnet rundt",
    ]  # fmt: skip
    assert "Viser 1–7 av 7 behov" in everything
    page = await page_of(staff, f"{base}?omrade=helse&haster=5")
    assert need_texts(page) == [
        "Flere fastleger i distriktet",
        "Hjemmetjenester med velferdsteknologi",
    ]
    assert "Viser 1–2 av 2 behov" in page
    assert "Filter: Område: Helse og omsorg · Hvor mye det haster: 5." in page
    assert '<option value="helse" selected>Helse og omsorg (4)</option>' in page
    # Alone / needs whom, county and organisation.
    assert need_texts(await page_of(staff, f"{base}?alene=ja")) == [
        "Økonomisk handlingsrom", "Rekruttering av sykepleiere",
    ]  # fmt: skip
    whom = await page_of(staff, f"{base}?hvem={quote('Nabokommuner eller regionen')}")
    assert need_texts(whom) == ["Felles saksbehandlingssystem", "Legevakt døgnet rundt"]
    assert need_texts(await page_of(staff, f"{base}?fylke=46&omrade=digitalisering")) == [
        "Bredbånd til alle grender"
    ]
    assert need_texts(await page_of(staff, f"{base}?org=3303")) == ["Flere fastleger i distriktet"]


async def test_search_and_the_all_rounds_browser(site: WorkspaceSite) -> None:
    w = await world(site)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    found = await page_of(staff, f"/resultater/{w.spring}/behov?sok={quote('  FASTLEGER ')}")
    assert need_texts(found) == ["Flere fastleger i distriktet"]
    assert need_texts(await page_of(staff, f"/resultater/{w.spring}/behov?sok=ingenting")) == []
    every = await page_of(staff, "/resultater/behov?omrade=helse")
    assert need_texts(every)[0] == "Behov fra høstrunden"  # the newest round first
    assert len(need_texts(every)) == 5
    only = await page_of(staff, f"/resultater/behov?runde={w.autumn}")
    assert need_texts(only) == ["Behov fra høstrunden"]
    assert "Runde: Høst 2027" in only
    assert need_texts(await page_of(staff, "/resultater/behov?sok=Økonomisk")) == [
        "Økonomisk handlingsrom"
    ]


async def test_viewers_see_no_names_without_consent(site: WorkspaceSite) -> None:
    w = await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    page = await page_of(viewer, f"/resultater/{w.spring}/behov")
    assert len(need_texts(page)) == 7
    assert "Drammen" in page and "Bergen" in page
    for withheld in ("Kongsberg", "Ringerike", "Kinn", "3303"):
        assert withheld not in page, withheld
    assert page.count("uten navn") == 3
    assert "Legg til" not in page and "Merk som sitérbar" not in page  # no staff forms
    assert "Last ned listen" not in page and 'method="post" action="/resultater' not in page
    assert need_texts(await page_of(viewer, f"/resultater/{w.spring}/behov?org=3303")) == []
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    shown = await page_of(staff, f"/resultater/{w.spring}/behov")
    assert "Kongsberg" in shown and shown.count('"tag-muted">ikke til publisering') == 3


AREAS = ("digitalisering", "okonomi", "struktur", "oppvekst", "helse", "arbeidsgiver")
BUSKERUD = ["3301", "3303", "3305", "3310", "3312", "3314", "3316", "3318", "3320", "3322"]


async def test_a_long_list_comes_in_pages_of_fifty_that_keep_the_filters(
    site: WorkspaceSite,
) -> None:
    async with site.sessions.begin() as session:
        round_id = await make_round(session, "Mange behov", BUSKERUD, status="closed")
        for code in BUSKERUD:
            await respond(session, round_id, code, need_answers(
                {area: (f"Behov {code} {area}", 3, False, ["ks"]) for area in AREAS}))  # fmt: skip
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    base = f"/resultater/{round_id}/behov"
    first = html.unescape(await page_of(staff, f"{base}?alene=nei"))
    assert len(need_texts(first)) == 50 and "Viser 1–50 av 60 behov" in first
    assert "Side 1 av 2" in first and f'href="{base}?alene=nei&side=2"' in first
    second = html.unescape(await page_of(staff, f"{base}?alene=nei&side=2"))
    assert len(need_texts(second)) == 10 and "Viser 51–60 av 60 behov" in second
    assert f'href="{base}?alene=nei">← Forrige side' in second
    assert need_texts(second) == [t for t in need_texts(second) if t not in need_texts(first)]
    beyond = html.unescape(await page_of(staff, f"{base}?alene=nei&side=7"))  # an old link
    assert "Viser 51–60 av 60 behov" in beyond
    # A change on page 2 comes back to page 2 with the same filter.
    listed = f"{base}?alene=nei&side=2"
    key = re.search(r'name="behov" value="([^"]+)"', second).group(1)
    tagged = await staff.post(
        "/resultater/behov/merkelapp",
        {"csrf_token": csrf_in(second), "behov": key, "merkelapp": "Side to", "tilbake": listed},
    )
    assert tagged.headers["Location"].startswith(listed + "#behov-")


async def test_bad_query_values_give_a_normal_page(site: WorkspaceSite) -> None:
    w = await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    for query in (
        "haster=abc", "side=-1", "side=0", "side=abc", "side=99999999999", "alene=kanskje",
        "fylke=xx", "org=%27%3B--", "runde=abc", "sitat=1", "haster=-5&side=2",
        "sok=" + "x" * 5000, "omrade=%00", "merke=%3Cscript%3E",
    ):  # fmt: skip
        for path in (f"/resultater/{w.spring}/behov?{query}", f"/resultater/behov?{query}"):
            response = await viewer.get(path)
            assert response.status == 200, (path, response.status)
            assert "<script>" not in await response.text()
    assert len(need_texts(await page_of(viewer, f"/resultater/{w.spring}/behov?haster=abc"))) == 7
    assert "<option" in await page_of(viewer, f"/resultater/{w.spring}/behov?side=-1")
    for missing in ("/resultater/99999/behov", "/resultater/99999/rapport.xlsx"):
        assert (await viewer.get(missing)).status == 404, missing


def test_the_query_is_read_leniently() -> None:
    wanted = read_need_query(
        {"haster": "abc", "alene": "ja", "fylke": "3", "side": "-1", "runde": "7", "sok": " a  b "},
        None,
    )
    assert (wanted.filters.urgency, wanted.filters.can_solve_alone) == (None, True)
    assert (wanted.filters.county, wanted.filters.round_id, wanted.filters.text) == ("3", 7, "a b")
    assert wanted.page == 1 and wanted.chosen == {"alene": "ja", "fylke": "3", "runde": "7",
                                                  "sok": "a b"}  # fmt: skip
    fixed = read_need_query({"runde": "7", "side": "3", "haster": "5"}, 2)
    assert (fixed.filters.round_id, fixed.filters.urgency, fixed.page) == (2, 5, 3)
    assert "runde" not in fixed.chosen


def test_only_local_results_paths_are_followed_back() -> None:
    fallback = "/resultater/behov"
    assert safe_back("/resultater/3/behov?omrade=helse&haster=5", fallback) == (
        "/resultater/3/behov?omrade=helse&haster=5"
    )
    for bad in (
        "https://evil.example/resultater", "//evil.example/resultater", "/\\evil.example",
        "/resultater/x\r\nSet-Cookie: a=b", "/runder/1", "javascript:alert(1)", "",
        "/resultater" + "x" * 3000,
    ):  # fmt: skip
        assert safe_back(bad, fallback) == fallback, bad


# --- tags, quotable, export ----------------------------------------------------------------------


async def entries(site: WorkspaceSite, action: str) -> list[audit.AuditRow]:
    async with site.sessions() as session:
        return await audit.entries(session, audit.AuditQuery(action=action))


async def test_staff_tag_and_untag_needs_with_an_audit_entry_and_come_back_to_the_list(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    listed = f"/resultater/{w.spring}/behov?omrade=helse&haster=5"
    token = csrf_in(await page_of(staff, listed))
    key = NeedKey(w.kongsberg, "omrader.helse.behov")
    anchor = f"#behov-{w.kongsberg}-omrader-helse-behov"
    form = {"csrf_token": token, "behov": key.token, "tilbake": listed}

    added = await staff.post("/resultater/behov/merkelapp", form | {"merkelapp": " Rekruttering "})
    assert added.status == 303 and added.headers["Location"] == listed + anchor
    page = await page_of(staff, listed)
    assert f'id="{anchor[1:]}"' in page and '<span class="tag">Rekruttering</span>' in page
    tagged = await page_of(staff, f"/resultater/{w.spring}/behov?merke=rekruttering")
    assert need_texts(tagged) == ["Flere fastleger i distriktet"]
    (entry,) = await entries(site, "need.tag")
    assert (entry.staff_name, entry.door, entry.target) == ("Siri", "web", f"need:{key.token}")
    assert entry.detail == {"label": "Rekruttering", "changed": True}
    assert entry.actor.startswith("staff:")

    removed = await staff.post(
        "/resultater/behov/fjern-merkelapp", form | {"merkelapp": "rekruttering"}
    )
    assert removed.status == 303 and removed.headers["Location"] == listed + anchor
    untagged = await page_of(staff, f"/resultater/{w.spring}/behov?merke=rekruttering")
    assert need_texts(untagged) == []
    (untag,) = await entries(site, "need.untag")
    assert untag.detail == {"label": "Rekruttering", "changed": True}

    # Somewhere else than the results pages is never followed.
    elsewhere = await staff.post(
        "/resultater/behov/merkelapp",
        form | {"merkelapp": "Helse", "tilbake": "https://evil.example/resultater"},
    )
    assert elsewhere.headers["Location"] == "/resultater/behov" + anchor
    empty = await staff.post("/resultater/behov/merkelapp", form | {"merkelapp": "   "})
    assert empty.status == 422 and "merkelapp må ha 1–60 tegn" in await empty.text()
    stale = await staff.post(
        "/resultater/behov/merkelapp",
        form | {"behov": f"{w.kongsberg}:omrader.okonomi.behov", "merkelapp": "x"},
    )
    assert stale.status == 404
    assert len(await entries(site, "need.tag")) == 2  # the refused ones left no entry


async def test_staff_mark_a_need_quotable_and_take_the_mark_away(site: WorkspaceSite) -> None:
    w = await world(site)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    listed = f"/resultater/{w.spring}/behov?sitat=ja"
    token = csrf_in(await page_of(staff, listed))
    form = {"csrf_token": token, "behov": f"{w.bergen}:omrader.helse.behov", "tilbake": listed}
    marked = await staff.post("/resultater/behov/siterbar", form | {"siterbar": "ja"})
    assert marked.status == 303 and marked.headers["Location"].startswith(listed + "#behov-")
    page = await page_of(staff, listed)
    assert need_texts(page) == ["Hjemmetjenester med velferdsteknologi"]
    assert "Ikke sitérbar likevel" in page
    unmarked = await staff.post("/resultater/behov/siterbar", form | {"siterbar": "nei"})
    assert unmarked.status == 303
    assert need_texts(await page_of(staff, listed)) == []
    first, second = reversed(await entries(site, "need.quotable"))
    assert (first.detail, second.detail) == (
        {"quotable": True, "changed": True},
        {"quotable": False, "changed": True},
    )


async def test_viewers_may_not_tag_mark_export_or_build_reports(site: WorkspaceSite) -> None:
    w = await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    token = await viewer.csrf(f"/resultater/{w.spring}")
    form = {"csrf_token": token, "behov": f"{w.bergen}:omrader.helse.behov", "merkelapp": "x",
            "siterbar": "ja", "tilbake": "/resultater/behov"}  # fmt: skip
    for path in (
        "/resultater/behov/merkelapp",
        "/resultater/behov/fjern-merkelapp",
        "/resultater/behov/siterbar",
        f"/resultater/{w.spring}/rapport",
    ):
        assert (await viewer.post(path, form)).status == 403, path
    for path in (f"/resultater/{w.spring}/behov/eksport", "/resultater/behov/eksport"):
        assert (await viewer.get(path)).status == 403, path
    async with site.sessions() as session:
        written = await audit.entries(session, audit.AuditQuery())
    assert [e.action for e in written if e.action.startswith(("need.", "report."))] == []
    # A staff member without the form's token is refused too.
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    forged = await staff.post("/resultater/behov/merkelapp", form | {"csrf_token": "forged"})
    assert forged.status == 403


async def test_the_filtered_list_exports_to_xlsx(site: WorkspaceSite) -> None:
    w = await world(site)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    page = await page_of(staff, f"/resultater/{w.spring}/behov?omrade=helse&haster=5")
    link = html.unescape(re.search(r'href="([^"]+/eksport[^"]*)"', page).group(1))
    assert link == f"/resultater/{w.spring}/behov/eksport?omrade=helse&haster=5"
    response = await staff.get(link)
    assert response.status == 200
    assert response.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="lyttepost-behov-runde-{w.spring}.xlsx"'
    )
    sheet = load_workbook(BytesIO(await response.read())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Behov: Vår 2027"
    assert rows[1][0] == "Område: Helse og omsorg" and rows[3][0] == "2 behov"
    header = next(i for i, row in enumerate(rows) if row[0] == "Runde")
    assert [(r[2], r[3], r[6], r[8]) for r in rows[header + 1 :]] == [
        ("Flere fastleger i distriktet", 5, "Kongsberg", "Nei"),
        ("Hjemmetjenester med velferdsteknologi", 5, "Bergen", "Ja"),
    ]
    everything = await staff.get("/resultater/behov/eksport?sok=behov")
    sheet = load_workbook(BytesIO(await everything.read())).active
    texts = [row[2] for row in sheet.iter_rows(values_only=True) if row[0] == "Høst 2027"]
    assert texts == ["Behov fra høstrunden"]


async def test_staff_build_the_report_files_and_anyone_downloads_them_while_current(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    before = await page_of(viewer, f"/resultater/{w.spring}")
    assert "ikke laget ennå" in before and "Lag rapport" not in before
    assert (await viewer.get(f"/resultater/{w.spring}/rapport.pdf")).status == 404

    summary = await page_of(staff, f"/resultater/{w.spring}")
    built = await staff.post(f"/resultater/{w.spring}/rapport", {"csrf_token": csrf_in(summary)})
    assert built.status == 303
    assert built.headers["Location"] == f"/resultater/{w.spring}?utfort=rapport#rapport"
    (entry,) = await entries(site, "report.build")
    assert (entry.staff_name, entry.target, entry.detail["files"]) == (
        "Siri", f"round:{w.spring}", ["pdf", "xlsx"],
    )  # fmt: skip
    after = await page_of(viewer, f"/resultater/{w.spring}")
    assert "Last ned rapporten som PDF" in after and "av Siri" in after

    pdf = await viewer.get(f"/resultater/{w.spring}/rapport.pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="lyttepost-rapport-runde-{w.spring}.pdf"'
    )
    assert (await pdf.read()).startswith(b"%PDF")
    workbook = await viewer.get(f"/resultater/{w.spring}/rapport.xlsx")
    assert workbook.headers["Content-Disposition"].startswith("attachment;")
    assert load_workbook(BytesIO(await workbook.read())).sheetnames

    # A changed figure makes the files stale: they are not served until built again.
    async with site.sessions.begin() as session:
        await respond(session, w.spring, "0301", need_answers({"helse": ("Ny", 1, True, None)}))
    assert (await viewer.get(f"/resultater/{w.spring}/rapport.pdf")).status == 404
    assert "Tallene har endret seg" in await page_of(viewer, f"/resultater/{w.spring}")
