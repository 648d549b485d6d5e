"""The needs browser on SQLite and PostgreSQL: every need as the report sees it, each
filter, full-text search, paging, names for viewers, staff tags and quotable marks, the
XLSX export; and what retention does to tags. The sheet writer is tested on plain data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from reports.needs_sheet import needs_workbook
from services.need_tags import TagError, add_tag, labels_in_use, remove_tag, set_quotable
from services.responses import erase_free_text
from services.surveys import SurveyCatalog
from services.views_needs import (
    NeedCache,
    NeedError,
    NeedFilter,
    NeedKey,
    all_needs,
    browse_needs,
    need_row,
    needs_xlsx,
)
from storage.orm import NeedTag, QuotableNeed, Response, Round
from tests.views_support import NOW, make_round, need_answers, respond

STALE = "Gammelt svar som ikke skal telle"


async def seed(sessions) -> dict[str, int]:
    """Two rounds; the newer has five responses, one in progress and one with a stale need."""
    async with sessions() as session, session.begin():
        older = await make_round(session, "Vår", ["3301"], status="closed",
                                 opens_at=NOW.replace(month=1), closes_at=NOW.replace(month=2))  # fmt: skip
        newer = await make_round(session, "Høst", ["3301", "4601", "4602", "1103", "5001"])
        ids = {
            "older": older,
            "newer": newer,
            "old_drammen": await respond(session, older, "3301", need_answers(
                {"okonomi": ("Økonomien strekker ikke til", 3, False, ["ks"])})),
            "drammen": await respond(session, newer, "3301", need_answers(
                {"digitalisering": ("Felles ØKONOMISYSTEM for regionen", 5, False, ["ks", "naboer"]),
                 "helse": ("Rekruttering av sykepleiere", 4, True, None)}, named=True)),
            "bergen": await respond(session, newer, "4601", need_answers(
                {"helse": ("Flere fastleger", 5, False, ["staten"])},
                extra={"omrader.okonomi.behov": STALE, "omrader.okonomi.haster": 5})),
            "kinn": await respond(session, newer, "4602", need_answers(
                {"okonomi": ("=HYPERLINK(\"http://x\")", 2, True, ["andre"])})),
            "stavanger": await respond(session, newer, "1103", need_answers(
                {"oppvekst": ("Skolebygg", 1, False, ["fylke"])}), status="in_progress"),
            "trondheim": await respond(session, newer, "5001", need_answers(
                {"digitalisering": ("   ", 3, True, None)})),  # no text: no need
        }  # fmt: skip
    return ids


def texts(rows) -> list[str]:
    return [row.text for row in rows]


async def test_every_need_of_submitted_responses_as_the_report_sees_them(sessions) -> None:
    ids = await seed(sessions)
    async with sessions() as session:
        newer = await all_needs(session, SurveyCatalog(), ids["newer"])
        everything = await all_needs(session, SurveyCatalog())
    # By area in the survey's order, then the most urgent first.
    assert texts(newer) == [
        "Felles ØKONOMISYSTEM for regionen", "=HYPERLINK(\"http://x\")",
        "Flere fastleger", "Rekruttering av sykepleiere",
    ]  # fmt: skip
    assert texts(everything) == [*texts(newer), "Økonomien strekker ikke til"]  # newest first
    drammen = newer[0]
    assert drammen.key == NeedKey(ids["drammen"], "omrader.digitalisering.behov")
    assert (drammen.round_title, drammen.area, drammen.area_label, drammen.urgency) == (
        "Høst", "digitalisering", "Digitalisering", 5,
    )  # fmt: skip
    assert (drammen.can_solve_alone, drammen.help_from) == (
        False,
        ("KS", "Nabokommuner eller regionen"),
    )
    assert (drammen.org_code, drammen.org_name, drammen.county_code, drammen.county_name) == (
        "3301", "Drammen", "33", "Buskerud",
    )  # fmt: skip
    assert drammen.may_name and not newer[2].may_name
    assert (drammen.tags, drammen.quotable, drammen.submitted_at is not None) == ((), False, True)


async def test_each_filter_and_the_search_narrow_the_list(sessions) -> None:
    ids = await seed(sessions)

    async def shown(**given) -> list[str]:
        async with sessions() as session:
            page = await browse_needs(session, SurveyCatalog(), NeedFilter(**given))
        assert page.total == len(page.needs)
        return texts(page.needs)

    assert await shown(round_id=ids["older"]) == ["Økonomien strekker ikke til"]
    assert await shown(area="helse") == ["Flere fastleger", "Rekruttering av sykepleiere"]
    assert await shown(urgency=4) == ["Rekruttering av sykepleiere"]
    assert await shown(min_urgency=4, round_id=ids["newer"]) == [
        "Felles ØKONOMISYSTEM for regionen", "Flere fastleger", "Rekruttering av sykepleiere",
    ]  # fmt: skip
    assert await shown(can_solve_alone=True) == [
        '=HYPERLINK("http://x")',
        "Rekruttering av sykepleiere",
    ]
    assert await shown(help_from="Staten") == ["Flere fastleger"]
    assert await shown(org="4601") == ["Flere fastleger"]
    assert await shown(county="33", round_id=ids["newer"]) == [
        "Felles ØKONOMISYSTEM for regionen", "Rekruttering av sykepleiere",
    ]  # fmt: skip
    # Case-insensitive, Norwegian letters too, the same on both databases.
    assert await shown(text="økonomi") == [
        "Felles ØKONOMISYSTEM for regionen", "Økonomien strekker ikke til",
    ]  # fmt: skip
    assert await shown(text="  FASTLEGE ") == ["Flere fastleger"]
    assert await shown(text="ingen slike") == []
    assert await shown(area="helse", can_solve_alone=False, county="46") == ["Flere fastleger"]


async def test_pages_hold_the_total_and_the_choices_of_the_unfiltered_list(sessions) -> None:
    ids = await seed(sessions)
    async with sessions() as session:
        first = await browse_needs(session, SurveyCatalog(), NeedFilter(), limit=2)
        last = await browse_needs(session, SurveyCatalog(), NeedFilter(), offset=4, limit=2)
        empty = await browse_needs(session, SurveyCatalog(), NeedFilter(text="x"), offset=-5)
    assert (first.total, len(first.needs), first.has_more) == (5, 2, True)
    assert (texts(last.needs), last.has_more) == (["Økonomien strekker ikke til"], False)
    assert [(c.value, c.label, c.needs) for c in first.choices.rounds] == [
        (str(ids["newer"]), "Høst", 4), (str(ids["older"]), "Vår", 1),
    ]  # fmt: skip
    assert [(c.value, c.needs) for c in first.choices.areas] == [
        ("digitalisering", 1), ("okonomi", 2), ("helse", 2),
    ]  # fmt: skip
    assert [c.value for c in first.choices.urgencies] == ["5", "4", "3", "2"]
    assert [c.value for c in first.choices.counties] == ["33", "46"]
    # Kinn's "who" was left behind when "alone" became yes: it is not a need's helper.
    assert [c.label for c in first.choices.help_from] == [
        "KS", "Nabokommuner eller regionen", "Staten",
    ]  # fmt: skip
    assert (empty.offset, empty.total, texts(empty.needs)) == (0, 1, ['=HYPERLINK("http://x")'])


async def test_viewers_see_no_names_without_consent_and_cannot_filter_by_them(sessions) -> None:
    await seed(sessions)
    async with sessions() as session:
        page = await browse_needs(session, SurveyCatalog(), show_names=False)
        bergen = await browse_needs(session, SurveyCatalog(), NeedFilter(org="4601"),
                                    show_names=False)  # fmt: skip
        buskerud = await browse_needs(session, SurveyCatalog(), NeedFilter(county="33"),
                                      show_names=False)  # fmt: skip
    named = {row.text: row.org_name for row in page.needs}
    assert named == {
        "Felles ØKONOMISYSTEM for regionen": "Drammen", "Rekruttering av sykepleiere": "Drammen",
        "Flere fastleger": None, "=HYPERLINK(\"http://x\")": None, "Økonomien strekker ikke til": None,
    }  # fmt: skip
    assert all(row.county_code is None for row in page.needs if row.org_name is None)
    assert bergen.total == 0
    assert texts(buskerud.needs) == [
        "Felles ØKONOMISYSTEM for regionen",
        "Rekruttering av sykepleiere",
    ]
    assert [c.value for c in page.choices.counties] == ["33"]


async def test_staff_tag_needs_and_mark_them_quotable(sessions) -> None:
    ids = await seed(sessions)
    fastleger = NeedKey(ids["bergen"], "omrader.helse.behov")
    sykepleiere = NeedKey(ids["drammen"], "omrader.helse.behov")
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        added = await add_tag(
            session, catalog, fastleger, "  Rekruttering ", actor="staff:1", now=NOW
        )
        again = await add_tag(session, catalog, fastleger, "rekruttering", actor="staff:2", now=NOW)
        other = await add_tag(
            session, catalog, sykepleiere, "REKRUTTERING", actor="staff:1", now=NOW
        )
        await add_tag(session, catalog, fastleger, "Helse", actor="staff:1", now=NOW)
        quoted = await set_quotable(session, catalog, fastleger, True, actor="staff:1", now=NOW)
        twice = await set_quotable(session, catalog, fastleger, True, actor="staff:1", now=NOW)
    assert (added.label, added.changed, added.tags) == ("Rekruttering", True, ("Rekruttering",))
    assert (again.changed, again.tags) == (False, ("Rekruttering",))  # one label, any capitals
    assert (other.label, other.changed) == ("Rekruttering", True)  # spelled as it is in use
    assert (quoted.changed, twice.changed, twice.quotable) == (True, False, True)
    async with sessions() as session:
        tagged = await browse_needs(session, catalog, NeedFilter(tag="rekruttering"))
        quotable = await browse_needs(session, catalog, NeedFilter(quotable=True))
        labels = await labels_in_use(session)
        in_older = await labels_in_use(session, ids["older"])
        row = await need_row(session, catalog, fastleger)
        stored = await session.scalar(select(NeedTag).where(NeedTag.label == "Helse"))
    assert texts(tagged.needs) == ["Flere fastleger", "Rekruttering av sykepleiere"]
    assert texts(quotable.needs) == ["Flere fastleger"]
    assert [(use.label, use.needs) for use in labels] == [("Rekruttering", 2), ("Helse", 1)]
    assert in_older == []
    assert (row.tags, row.quotable) == (("Helse", "Rekruttering"), True)
    assert (stored.added_by, stored.added_at) == ("staff:1", NOW)
    assert [(c.label, c.needs) for c in tagged.choices.tags] == [("Helse", 1), ("Rekruttering", 2)]

    async with sessions() as session, session.begin():
        removed = await remove_tag(session, fastleger, "REKRUTTERING")
        absent = await remove_tag(session, fastleger, "finnes ikke")
        unquoted = await set_quotable(session, catalog, fastleger, False, actor="staff:1", now=NOW)
        not_quoted = await set_quotable(
            session, catalog, fastleger, False, actor="staff:1", now=NOW
        )
    assert (removed.label, removed.changed, removed.tags) == ("Rekruttering", True, ("Helse",))
    assert (absent.changed, absent.tags) == (False, ("Helse",))
    assert (unquoted.changed, not_quoted.changed, unquoted.quotable) == (True, False, False)


async def test_only_real_needs_take_tags_and_labels_must_fit(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    wrong = [
        NeedKey(ids["bergen"], "omrader.okonomi.behov"),  # stale: the area is not chosen
        NeedKey(ids["bergen"], "fornoyd"),  # not a need
        NeedKey(ids["stavanger"], "omrader.oppvekst.behov"),  # not submitted
        NeedKey(ids["trondheim"], "omrader.digitalisering.behov"),  # no text
        NeedKey(99999, "omrader.helse.behov"),
    ]
    async with sessions() as session:
        for key in wrong:
            with pytest.raises(NeedError):
                await add_tag(session, catalog, key, "x", actor="staff:1", now=NOW)
            with pytest.raises(NeedError):
                await set_quotable(session, catalog, key, True, actor="staff:1", now=NOW)
            with pytest.raises(NeedError):
                await need_row(session, catalog, key)
        key = NeedKey(ids["bergen"], "omrader.helse.behov")
        for label in ("   ", "x" * 61):
            with pytest.raises(TagError):
                await add_tag(session, catalog, key, label, actor="staff:1", now=NOW)
        assert await session.scalar(select(func.count()).select_from(NeedTag)) == 0


def test_need_keys_read_back_from_their_token() -> None:
    key = NeedKey(12, "omrader.helse.behov")
    assert NeedKey.parse(key.token) == key and key.token == "12:omrader.helse.behov"
    for token in ("", "12", "x:omrader", ":omrader", "12:"):
        with pytest.raises(NeedError):
            NeedKey.parse(token)


async def test_erasing_a_responses_free_text_takes_its_tags_and_marks_with_it(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    bergen = NeedKey(ids["bergen"], "omrader.helse.behov")
    drammen = NeedKey(ids["drammen"], "omrader.helse.behov")
    async with sessions() as session, session.begin():
        for key in (bergen, drammen):
            await add_tag(session, catalog, key, "Helse", actor="staff:1", now=NOW)
            await set_quotable(session, catalog, key, True, actor="staff:1", now=NOW)
        response = await session.get(Response, ids["bergen"])
        round_ = await session.get(Round, response.round_id)
        survey = await catalog.get(session, round_.survey_version_id)
        await erase_free_text(session, response, survey)
    async with sessions() as session:
        tags = list(await session.scalars(select(NeedTag.response_id)))
        quotes = list(await session.scalars(select(QuotableNeed.response_id)))
        left = await all_needs(session, catalog, ids["newer"])
    assert tags == quotes == [ids["drammen"]]
    assert "Flere fastleger" not in texts(left)


async def test_the_filtered_list_exports_to_xlsx(sessions) -> None:
    await seed(sessions)
    async with sessions() as session:
        data = await needs_xlsx(
            session, SurveyCatalog(), NeedFilter(can_solve_alone=True), show_names=False,
            title="Behov som kan løses alene", description=["Filter: kan løses alene"],
        )  # fmt: skip
    sheet = load_workbook(BytesIO(data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Behov som kan løses alene"
    assert rows[1][0] == "Filter: kan løses alene" and rows[2][0] == "2 behov"
    header = rows.index(next(r for r in rows if r[0] == "Runde"))
    body = rows[header + 1 :]
    assert [(r[2], r[3], r[4], r[6]) for r in body] == [
        ("=HYPERLINK(\"http://x\")", 2, "Ja", "uten navn"),
        ("Rekruttering av sykepleiere", 4, "Ja", "Drammen"),
    ]  # fmt: skip


@dataclass(frozen=True)
class Plain:
    round_title: str = "Runde"
    area_label: str = "Helse"
    text: str = "Tekst"
    urgency: int | None = 3
    can_solve_alone: bool | None = None
    help_from: tuple[str, ...] = ()
    org_name: str | None = None
    county_name: str | None = None
    may_name: bool = False
    tags: tuple[str, ...] = ()
    quotable: bool = False
    new_area: bool | None = None


def test_the_sheet_keeps_every_text_inert_and_numbers_as_numbers() -> None:
    needs = [
        Plain(text="=cmd|' /C calc'!A0", tags=("@merke", "-minus"), org_name="+Org",
              county_name="Fylke", may_name=True, quotable=True, can_solve_alone=False,
              help_from=("KS",)),
        Plain(text="#N/A", urgency=None, round_title="\tfane", new_area=True),
    ]  # fmt: skip
    sheet = load_workbook(BytesIO(needs_workbook(needs))).active
    header = next(row for row in sheet.iter_rows() if row[0].value == "Runde")[0].row
    first, second = list(sheet.iter_rows(min_row=header + 1, max_row=header + 2))
    for cell in (*first, *second):
        if isinstance(cell.value, str):
            assert cell.data_type == "s", cell.coordinate
    assert first[2].value == "=cmd|' /C calc'!A0" and first[2].quotePrefix
    assert first[9].value == "@merke, -minus" and first[9].quotePrefix
    assert first[6].value == "+Org" and first[6].quotePrefix
    assert (first[3].value, first[3].data_type) == (3, "n")
    assert [c.value for c in first[4:11]] == [
        "Nei", "KS", "+Org", "Fylke", "Ja", "@merke, -minus", "Ja",
    ]  # fmt: skip
    assert second[2].value == "#N/A" and second[3].value is None
    assert [c.value for c in second[6:9]] == ["uten navn", "uten navn", "Nei"]
    assert second[0].quotePrefix  # a leading tab
    assert (first[11].value, second[11].value) == (None, "Ja")  # new area; unknown: empty
    assert sheet.auto_filter.ref == f"A{header}:L{header + 2}"


async def test_the_cache_serves_a_response_until_its_row_changes(sessions) -> None:
    ids = await seed(sessions)
    catalog, cache = SurveyCatalog(), NeedCache()
    async with sessions() as session:
        first = await all_needs(session, catalog, ids["newer"], cache=cache)
        version = (await session.get(Response, ids["bergen"])).version
    (cached,) = cache.get(ids["bergen"], version)
    assert cached.text == "Flere fastleger" and cache.get(ids["bergen"], version + 1) is None
    # What the cache holds is what is shown, while the row is unchanged ...
    cache.put(ids["bergen"], version, (replace(cached, text="Fra hurtigbufferen"),))
    async with sessions() as session:
        again = await all_needs(session, catalog, ids["newer"], cache=cache)
    assert "Fra hurtigbufferen" in texts(again) and len(again) == len(first)
    # ... and an erasure of its free text changes the row, so it is read again.
    async with sessions() as session, session.begin():
        response = await session.get(Response, ids["bergen"])
        round_ = await session.get(Round, response.round_id)
        await erase_free_text(
            session, response, await catalog.get(session, round_.survey_version_id)
        )
    async with sessions() as session:
        after = await all_needs(session, catalog, ids["newer"], cache=cache)
    assert texts(after) == [t for t in texts(first) if t != "Flere fastleger"]
