"""Counts read with the right noun form: "1 medlem", "2 medlemmer"; "1 contact", "2 contacts"."""

from __future__ import annotations

import pytest

from bot.cli_support import counted
from dialogs import admin, notices
from dialogs.texts import antall
from scheduler.calendar_rounds import describe_audience


@pytest.mark.parametrize(
    ("number", "expected"),
    [(0, "0 medlemmer"), (1, "1 medlem"), (2, "2 medlemmer"), (12345, "12 345 medlemmer")],
)
def test_antall_takes_the_singular_only_for_one(number: int, expected: str) -> None:
    assert antall(number, "medlem", "medlemmer") == expected


def test_counted_is_the_english_one_for_the_command_line() -> None:
    assert counted(1, "contact") == "1 contact" and counted(2, "contact") == "2 contacts"
    assert counted(0, "entry", "entries") == "0 entries" and counted(1, "entry", "entries") == (
        "1 entry"
    )


def test_a_locked_code_waits_one_minute_or_several() -> None:
    assert "Vent 1 minutt før" in notices.code_locked(1).text
    assert "Vent 2 minutter før" in notices.code_locked(2).text


def test_the_publish_confirmation_counts_contacts_and_organisations() -> None:
    one = admin.confirm_publish(7, "Oppsummering", "alle medlemmer", 1, 1, 1, "all").text
    assert "til 1 kontaktperson i 1 organisasjon; 1 kan ikke nås" in one
    two = admin.confirm_publish(7, "Oppsummering", "alle medlemmer", 2, 2, 0, "all").text
    assert "til 2 kontaktpersoner i 2 organisasjoner; 0 kan ikke nås" in two


def test_the_cancel_confirmation_says_who_is_told() -> None:
    assert "Ingen har fått invitasjon ennå." in admin.confirm_cancel(3, "Q1", 0).text
    assert "Den ene som har fått invitasjon, får beskjed." in admin.confirm_cancel(3, "Q1", 1).text
    assert "De 2 som har fått invitasjon, får beskjed." in admin.confirm_cancel(3, "Q1", 2).text


def test_a_round_for_chosen_members_names_one_or_several() -> None:
    assert describe_audience({"kind": "orgs", "codes": ["3301"]}, None) == (
        "1 utvalgt medlem (3301)"
    )
    assert describe_audience({"kind": "orgs", "codes": ["3301", "46"]}, None) == (
        "2 utvalgte medlemmer (3301, 46)"
    )
