"""The Teams app package: its files, its manifest, the limits Teams enforces, the CLI."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import typer
from jsonschema import validators
from PIL import Image
from typer.testing import CliRunner

from bot.teams import adaptive_card
from bot.teams_app import (
    PackageError,
    build_package,
    check_icon,
    check_manifest,
    render_manifest,
    teams_app,
)
from dialogs import admin, cycle_texts, notices
from dialogs.commands import teams_commands
from dialogs.engine import step
from dialogs.events import Begin, Control, Event, Pressed, TextEntered
from dialogs.messages import OutgoingMessage
from dialogs.model import Survey
from dialogs.state import ResponseState
from tests.engine_fixtures import CONTEXT, full_survey, variants_survey
from tests.official_schemas import (
    SchemaUnavailable,
    adaptive_card_schema,
    or_fail_in_ci,
    teams_manifest_schema,
)
from tests.report_fixtures import current_survey, shipped_survey
from tests.type_fixtures import ranking_and_matrix_survey

APP_ID = "0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
# From the one list of commands (tests/test_command_menus.py checks it against the help).
MEMBER_COMMANDS = {command.name for command in teams_commands()}


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(data: bytes) -> dict[str, Any]:
    return json.loads(unzip(data)["manifest.json"].decode("utf-8"))


@pytest.fixture(scope="module")
def package() -> bytes:
    return build_package(APP_ID, "1.4.2", "bot.example.no")


@pytest.fixture
def manifest() -> dict[str, Any]:
    """A filled-in manifest that passes, for the checker tests to spoil."""
    return render_manifest(APP_ID, "1.0.0", "bot.example.no")


# --- the package -------------------------------------------------------------------------


def test_the_zip_holds_exactly_the_three_files_at_its_root(package: bytes) -> None:
    assert sorted(unzip(package)) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_carries_the_app_id_the_version_and_the_domain(package: bytes) -> None:
    manifest = manifest_of(package)
    assert manifest["manifestVersion"] in {"1.16", "1.17"}
    assert manifest["$schema"].endswith(
        f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json"
    )
    assert manifest["id"] == APP_ID
    assert manifest["version"] == "1.4.2"
    assert manifest["validDomains"] == ["bot.example.no"]
    assert manifest["name"] == {"short": "Lyttepost", "full": "Lyttepost – KS sin lyttepost"}
    assert manifest["developer"]["name"] == "KS"
    assert all(
        manifest["developer"][key].startswith("https://www.ks.no")
        for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
    )
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert "{{" not in json.dumps(manifest)
    assert "webApplicationInfo" not in manifest  # no SSO: nothing to declare


def test_the_bot_is_personal_and_lists_the_member_commands(package: bytes) -> None:
    (bot,) = manifest_of(package)["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    (command_list,) = bot["commandLists"]
    assert command_list["scopes"] == ["personal"]
    titles = [command["title"] for command in command_list["commands"]]
    assert set(titles) == MEMBER_COMMANDS and len(titles) == len(MEMBER_COMMANDS) <= 10
    assert not any(title.startswith("/") for title in titles)
    assert all(0 < len(command["description"]) <= 128 for command in command_list["commands"])


def test_without_a_domain_valid_domains_is_empty() -> None:
    manifest = manifest_of(build_package(APP_ID, "1.0.0", None))
    assert manifest["validDomains"] == []


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert build_package(APP_ID, "1.0.0", None) == build_package(APP_ID, "1.0.0", None)


def test_the_icons_have_the_sizes_teams_requires(package: bytes) -> None:
    files = unzip(package)
    color = Image.open(io.BytesIO(files["color.png"]))
    assert color.format == "PNG" and color.size == (192, 192)
    outline = Image.open(io.BytesIO(files["outline.png"]))
    assert outline.format == "PNG" and outline.size == (32, 32) and outline.mode == "RGBA"
    # White on transparent: every colour channel is pure white, only alpha varies.
    red, green, blue, alpha = outline.split()
    assert red.getextrema() == green.getextrema() == blue.getextrema() == (255, 255)
    assert alpha.getextrema() == (0, 255)


def test_check_icon_refuses_the_wrong_size_and_non_png(package: bytes) -> None:
    files = unzip(package)
    check_icon("color", files["color.png"])
    with pytest.raises(PackageError) as caught:
        check_icon("outline", files["color.png"])
    assert caught.value.field == "icons.outline" and "32×32" in str(caught.value)
    with pytest.raises(PackageError, match="not a PNG"):
        check_icon("color", b"GIF89a" + bytes(40))


# --- Microsoft's official schemas ---------------------------------------------------------


def schema_errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every error the official schema finds, with where (validated as Microsoft's tools do:
    by the schema's own JSON Schema draft, formats included)."""
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def manifest_schema(version: str) -> dict[str, Any]:
    try:
        return teams_manifest_schema(version)
    except SchemaUnavailable as error:
        or_fail_in_ci(error)
        raise


def card_schema(version: str) -> dict[str, Any]:
    try:
        return adaptive_card_schema(version)
    except SchemaUnavailable as error:
        or_fail_in_ci(error)
        raise


@pytest.mark.parametrize(
    ("version", "domain"), [("1.0.0", None), ("1.4.2", "bot.example.no"), ("12.0.7", "*.ks.no")]
)
def test_every_generated_manifest_passes_microsofts_schema_of_its_version(
    version: str, domain: str | None
) -> None:
    manifest = manifest_of(build_package(APP_ID, version, domain))
    declared = manifest["manifestVersion"]
    assert manifest["$schema"].endswith(f"/v{declared}/MicrosoftTeams.schema.json")
    assert schema_errors(manifest, manifest_schema(declared)) == []


def test_the_schema_check_catches_what_teams_would_refuse(manifest: dict[str, Any]) -> None:
    schema = manifest_schema(manifest["manifestVersion"])
    assert schema_errors(manifest, schema) == []
    manifest["packageName"] = "no.ks.lyttepost"  # dropped from the schema after 1.16
    errors = schema_errors(manifest, schema)
    assert errors == [
        "(root): Additional properties are not allowed ('packageName' was unexpected)"
    ]


def _answer(survey: Survey, state: ResponseState, message: OutgoingMessage) -> list[Event]:
    """What a member does next on the question shown: the first choices, or some text."""
    question = survey.question(state.current or "")
    assert question is not None
    buttons = [b.payload for b in message.all_buttons()]
    if question.type == "multi":  # up to three options, unless some are chosen already
        most = min(question.max_select or len(question.options), 3)
        toggles = [] if state.selection else [p for p in buttons if p.startswith("t:")][:most]
        return [*map(Pressed, toggles), Pressed(next(p for p in buttons if p.startswith("n:")))]
    if question.type == "ranking":  # two picks (a third place is filled by itself)
        picks = [] if state.selection else [p for p in buttons if p.startswith("r:")][:2]
        return [*map(Pressed, picks), Pressed(f"n:{question.id}")]
    if question.type == "matrix":  # the first number of every row
        rows = {p.rsplit(":", 1)[0]: p for p in reversed(buttons) if p.count(":") == 3}
        cells = [] if state.grid else list(rows.values())
        return [*map(Pressed, cells), Pressed(f"n:{question.id}")]
    if question.type == "text":
        return [TextEntered("Vi trenger flere fagfolk og bedre verktøy i tjenestene")]
    if question.type == "number":
        return [TextEntered(str(int(question.number_min or 0) + 12))]
    return [Pressed(next(p for p in buttons if p.startswith("a:")))]


def whole_survey(survey: Survey) -> list[OutgoingMessage]:
    """Every message of a survey run: every question, back, pause and resume, the overview,
    an edit, and the submission."""
    messages: list[OutgoingMessage] = []
    state = ResponseState()

    def send(event: Event) -> None:
        nonlocal state
        result = step(survey, state, event, CONTEXT)
        messages.extend(result.messages)
        state = result.state

    send(Begin())
    send(Control("pause"))
    send(Begin())
    for _ in range(200):
        if state.phase == "reviewing":
            break
        for event in _answer(survey, state, messages[-1]):
            send(event)
        if len(messages) == 12:  # once: go back and come forward again
            send(Control("back"))
            for event in _answer(survey, state, messages[-1]):
                send(event)
    assert state.phase == "reviewing"
    edit = next(b.payload for b in messages[-1].all_buttons() if b.payload.startswith("e:"))
    send(Pressed(edit))
    for event in _answer(survey, state, messages[-1]):
        send(event)
    send(Control("review"))
    send(Control("submit"))
    assert state.phase == "submitted"
    return messages


def every_card() -> list[dict[str, Any]]:
    """The Adaptive Cards Lyttepost sends: whole survey runs, notices, reminders, admin."""
    surveys = (current_survey(), shipped_survey(), full_survey(), variants_survey(),
               ranking_and_matrix_survey())  # fmt: skip
    messages = [m for survey in surveys for m in whole_survey(survey)]
    offers = [notices.RoundOffer(1, "Behov 1. kvartal", "1. februar 2030"),
              notices.RoundOffer(2, "Ekstrarunde", "1. mars 2030")]  # fmt: skip
    messages += [
        cycle_texts.invitation(contact_name="Kari", org_name="Bergen kommune", title="Behov",
                               closes="1. februar 2030", round_id=1),
        notices.offer_rounds(offers[:1]), notices.offer_rounds(offers),
        cycle_texts.reminder(contact_name="Kari", org_name="Bergen kommune", title="Behov",
                             closes="1. februar", round_id=1, started=True),
        cycle_texts.deadline_changed(org_name="Bergen kommune", title="Behov",
                                     closes="1. mars", round_id=1),
        admin.confirm_cancel(1, "Behov", 371),
        admin.confirm_publish(3, "Oppsummering", "alle", 360, 350, 11, "all"),
    ]  # fmt: skip
    return [adaptive_card(m) for m in messages if m.buttons]


def test_every_card_lyttepost_sends_passes_microsofts_adaptive_card_schema() -> None:
    cards = every_card()
    assert len(cards) >= 60  # every question type, the overview, notices and admin prompts
    invalid = {}
    for index, card in enumerate(cards):
        errors = schema_errors(card, card_schema(card["version"]))
        if errors:
            invalid[index] = (card["body"][0]["text"], errors)
    assert invalid == {}


def test_the_card_schema_check_catches_a_card_teams_would_refuse() -> None:
    card = every_card()[0]
    schema = card_schema(card["version"])
    broken = copy.deepcopy(card)
    broken["body"][-1]["actions"][0]["type"] = "Action.Send"
    assert schema_errors(broken, schema)
    broken = copy.deepcopy(card)
    broken["body"][0]["wrap"] = "ja"
    assert schema_errors(broken, schema)


# --- the inputs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "app_id",
    ["", "lyttepost", "0b7a1c2d3e4f4a5b8c6d7e8f9a0b1c2d", "{0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
     "0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2"],
)  # fmt: skip
def test_an_app_id_that_is_not_a_guid_is_refused(app_id: str) -> None:
    with pytest.raises(PackageError) as caught:
        build_package(app_id, "1.0.0", None)
    assert caught.value.field == "id" and "GUID" in str(caught.value)


@pytest.mark.parametrize("version", ["", "1", "1.0", "v1.0.0", "1.0.0-beta.1", "01.0.0", "1.0.0.0"])
def test_a_version_that_is_not_major_minor_patch_is_refused(version: str) -> None:
    with pytest.raises(PackageError) as caught:
        build_package(APP_ID, version, None)
    assert caught.value.field == "version" and "MAJOR.MINOR.PATCH" in str(caught.value)


@pytest.mark.parametrize(
    "domain", ["https://bot.example.no", "bot.example.no/api/messages", "bot example.no", ""]
)
def test_a_domain_that_is_not_a_host_name_is_refused(domain: str) -> None:
    with pytest.raises(PackageError) as caught:
        build_package(APP_ID, "1.0.0", domain)
    assert caught.value.field == "validDomains"


def test_the_app_id_is_kept_as_given_apart_from_spaces() -> None:
    upper = APP_ID.upper()
    manifest = manifest_of(build_package(f" {upper} ", "1.0.0", None))
    assert manifest["id"] == manifest["bots"][0]["botId"] == upper


# --- the limits Teams enforces -----------------------------------------------------------


def test_the_shipped_template_passes_the_checker(manifest: dict[str, Any]) -> None:
    check_manifest(manifest)


def test_the_checker_catches_an_overlong_command_title(manifest: dict[str, Any]) -> None:
    manifest["bots"][0]["commandLists"][0]["commands"][2]["title"] = "x" * 33
    with pytest.raises(PackageError) as caught:
        check_manifest(manifest)
    assert caught.value.field == "bots[0].commandLists[0].commands[2].title"
    assert "33 characters" in str(caught.value) and "at most 32" in str(caught.value)


def _commands(manifest: dict[str, Any]) -> list[dict[str, str]]:
    return manifest["bots"][0]["commandLists"][0]["commands"]


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda m: m["name"].update(short="L" * 31), "name.short"),
        (lambda m: m["name"].update(full="L" * 101), "name.full"),
        (lambda m: m["description"].update(short="d" * 81), "description.short"),
        (lambda m: m["description"].update(full="d" * 4001), "description.full"),
        (lambda m: m["description"].update(short=""), "description.short"),
        (lambda m: m["developer"].update(name="K" * 33), "developer.name"),
        (lambda m: m["developer"].update(privacyUrl="http://www.ks.no"), "developer.privacyUrl"),
        (lambda m: m.update(accentColor="blue"), "accentColor"),
        (lambda m: _commands(m)[0].update(description="d" * 129), "bots[0].commandLists[0].commands[0].description"),
        (lambda m: _commands(m).extend(copy.deepcopy(_commands(m)[:2])), "bots[0].commandLists[0].commands"),
        (lambda m: _commands(m)[9].update(title=_commands(m)[0]["title"]), "bots[0].commandLists[0].commands[9].title"),
        (lambda m: m["bots"][0].update(botId="not-a-guid"), "id"),
        (lambda m: m["bots"].append(copy.deepcopy(m["bots"][0])), "bots"),
        (lambda m: m.update(validDomains=["https://bot.example.no"]), "validDomains[0]"),
        (lambda m: m.update(version="{{VERSION}}"), "version"),
        (lambda m: m["description"].update(full="se {{BOT_DOMAIN}}"), "{{BOT_DOMAIN}}"),
    ],
)  # fmt: skip
def test_the_checker_names_the_field_teams_would_refuse(
    manifest: dict[str, Any], spoil: Any, field: str
) -> None:
    spoil(manifest)
    with pytest.raises(PackageError) as caught:
        check_manifest(manifest)
    assert caught.value.field == field


def test_more_than_ten_commands_is_refused_with_the_count(manifest: dict[str, Any]) -> None:
    _commands(manifest).append({"title": "ekstra", "description": "x"})
    with pytest.raises(PackageError, match=r"11 entries, Teams allows 1 to 10"):
        check_manifest(manifest)


# --- lyttepost teams package -------------------------------------------------------------


def lyttepost() -> typer.Typer:
    """The sub-app mounted as in bot/cli.py (``lyttepost teams ...``)."""
    root = typer.Typer()
    root.add_typer(teams_app, name="teams")
    return root


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory (no .env) and no Microsoft settings from the outer environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TYPE",
                 "MICROSOFT_APP_TENANT_ID"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_cli_writes_the_package_and_prints_one_json_document(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    out = workdir / "pakke.zip"
    result = CliRunner().invoke(
        lyttepost(),
        ["teams", "package", "--out", str(out), "--version", "2.0.1", "--domain",
         "bot.example.no", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {
        "path": str(out), "app_id": APP_ID, "version": "2.0.1", "size": out.stat().st_size,
    }  # fmt: skip
    manifest = manifest_of(out.read_bytes())
    assert manifest["id"] == APP_ID and manifest["version"] == "2.0.1"
    assert manifest["validDomains"] == ["bot.example.no"]


def test_the_cli_defaults_and_human_output(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    result = CliRunner().invoke(lyttepost(), ["teams", "package"])
    assert result.exit_code == 0, result.output
    written = workdir / "lyttepost-teams.zip"
    assert manifest_of(written.read_bytes())["version"] == "1.0.0"
    assert "wrote lyttepost-teams.zip" in result.stdout and APP_ID in result.stdout


def test_the_cli_fails_clearly_without_an_app_id(workdir: Path) -> None:
    result = CliRunner().invoke(lyttepost(), ["teams", "package", "--json"])
    assert result.exit_code == 1
    assert "MICROSOFT_APP_ID is not set" in result.stderr
    assert result.stdout == ""
    assert not (workdir / "lyttepost-teams.zip").exists()


def test_the_cli_fails_clearly_on_a_bad_app_id_or_version(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", "min-bot")
    result = CliRunner().invoke(lyttepost(), ["teams", "package"])
    assert result.exit_code == 1 and "GUID" in result.stderr and "'min-bot'" in result.stderr
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    result = CliRunner().invoke(lyttepost(), ["teams", "package", "--version", "1.0"])
    assert result.exit_code == 1 and "version: must be MAJOR.MINOR.PATCH" in result.stderr
    assert not (workdir / "lyttepost-teams.zip").exists()


def test_the_cli_reports_an_unwritable_destination(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    out = workdir / "finnes-ikke" / "pakke.zip"
    result = CliRunner().invoke(lyttepost(), ["teams", "package", "--out", str(out)])
    assert result.exit_code == 1 and "cannot write" in result.stderr
