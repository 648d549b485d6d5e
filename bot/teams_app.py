"""The Microsoft Teams app package, and ``lyttepost teams package`` that writes it.

Teams installs a bot from a zip with ``manifest.json``, ``color.png`` (192×192) and
``outline.png`` (32×32) at its root. The manifest comes from
``bot/teams_package/manifest.template.json`` with ``{{APP_ID}}``, ``{{VERSION}}`` and
``{{BOT_DOMAIN}}`` filled in, and is checked against the limits Teams enforces on upload
(manifest schema 1.16/1.17), so a bad package fails here, naming the field, rather than
in the Teams client with a vague message. The tests also validate every manifest this
module makes against Microsoft's official schema of its ``manifestVersion``
(``tests/official_schemas.py``), so a field the schema no longer allows cannot reach an
upload. See docs/teams-setup.md.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import typer

from bot.cli_support import JsonOption, counted, emit, fail, settings
from dialogs.commands import teams_commands
from dialogs.i18n import SOURCE, speaking

TEMPLATE = "manifest.template.json"
COMMAND_LISTS_PLACEHOLDER = "{{COMMAND_LISTS}}"  # the commands come from dialogs/commands.py
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
MANIFEST_VERSIONS = {"1.16", "1.17"}
BOT_SCOPES = {"personal", "team", "groupChat", "groupchat"}

# Teams' limits (manifest schema 1.16/1.17): field -> maximum length.
TEXT_LIMITS: dict[tuple[str, ...], int] = {
    ("name", "short"): 30,
    ("name", "full"): 100,
    ("description", "short"): 80,
    ("description", "full"): 4000,
    ("developer", "name"): 32,
}
URL_FIELDS = ("websiteUrl", "privacyUrl", "termsOfUseUrl")
MAX_URL = 2048
MAX_VERSION = 256
MAX_COMMAND_LISTS = 3
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Teams takes plain MAJOR.MINOR.PATCH (no pre-release or build suffix).
_VERSION = re.compile(r"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)$")
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same inputs give the same bytes


class PackageError(ValueError):
    """Something Teams would refuse; ``field`` names it (``version``, ``bots[0]...title``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- the inputs ---------------------------------------------------------------------------


def check_app_id(app_id: str) -> str:
    """The Microsoft App ID of the Azure Bot: a GUID, used as the app's and the bot's id."""
    value = app_id.strip()
    if not _GUID.fullmatch(value):
        raise PackageError(
            "id",
            "the app id must be a GUID like 12345678-abcd-1234-abcd-1234567890ab "
            f"(the Azure Bot's Microsoft App ID, MICROSOFT_APP_ID), not {app_id!r}",
        )
    return value


def check_version(version: str) -> str:
    """The package version: MAJOR.MINOR.PATCH; raise it for every upload of a changed manifest."""
    value = version.strip()
    if len(value) > MAX_VERSION or not _VERSION.fullmatch(value):
        raise PackageError(
            "version", f"must be MAJOR.MINOR.PATCH with plain numbers, e.g. 1.0.0, not {version!r}"
        )
    return value


def check_domain(domain: str) -> str:
    """A host name for ``validDomains``: ``bot.example.no`` (no scheme, no path)."""
    value = domain.strip().lower()
    if len(value) > 253 or not _DOMAIN.fullmatch(value):
        raise PackageError(
            "validDomains",
            f"give a host name like bot.example.no, without https:// or a path, not {domain!r}",
        )
    return value


# --- the manifest ------------------------------------------------------------------------


def _package_file(name: str) -> bytes:
    return resources.files("bot").joinpath("teams_package", name).read_bytes()


def render_manifest(app_id: str, version: str, bot_domain: str | None) -> dict[str, Any]:
    """The template with the placeholders filled in (values are not checked here)."""
    template = json.loads(_package_file(TEMPLATE).decode("utf-8"))
    values = {"{{APP_ID}}": app_id, "{{VERSION}}": version, "{{BOT_DOMAIN}}": bot_domain}
    values[COMMAND_LISTS_PLACEHOLDER] = COMMAND_LISTS_PLACEHOLDER  # filled in below

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            # A list entry that is only an absent value's placeholder is left out.
            return [
                fill(item)
                for item in node
                if not (isinstance(item, str) and values.get(item, "") is None)
            ]
        if isinstance(node, str):
            for placeholder, value in values.items():
                if placeholder in node:
                    if value is None:
                        raise PackageError(placeholder, "no value for this placeholder")
                    node = node.replace(placeholder, value)
        return node

    manifest = fill(template)
    for bot in manifest.get("bots", []):
        if bot.get("commandLists") == COMMAND_LISTS_PLACEHOLDER:
            bot["commandLists"] = command_lists()
    return manifest


def command_lists() -> list[dict[str, Any]]:
    """The bot's command list, from the one list of commands (dialogs/commands.py): the
    members' commands in a personal chat. Staff's are not listed (a manifest cannot show
    them to staff only); they find them with /adminhjelp.

    Always bokmål: the list is fixed per app package, the same for every organisation,
    and Teams' own manifest localisation would follow the Teams client's language, not
    the language the member reads Lyttepost in (issue 15). Telegram's menus follow it."""
    with speaking(SOURCE):
        commands = [{"title": c.name, "description": c.describe()} for c in teams_commands()]
    return [{"scopes": ["personal"], "commands": commands}]


def _path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _text(node: Any, parts: tuple[str | int, ...], limit: int) -> str:
    """A required, non-empty string of at most ``limit`` characters."""
    value: Any = node
    for part in parts:
        ok = isinstance(value, dict) if isinstance(part, str) else isinstance(value, list)
        if not ok or (isinstance(part, str) and part not in value):
            raise PackageError(_path(parts), "missing")
        if isinstance(part, int) and part >= len(value):
            raise PackageError(_path(parts), "missing")
        value = value[part]
    if not isinstance(value, str) or not value.strip():
        raise PackageError(_path(parts), "must be a non-empty text")
    if len(value) > limit:
        raise PackageError(
            _path(parts), f"{len(value)} characters, Teams allows at most {limit}: {value[:40]!r}"
        )
    return value


def _list(node: Any, name: tuple[str | int, ...], *, low: int, high: int) -> list[Any]:
    """The list ``node[name[-1]]`` (``name`` is its full path, for messages)."""
    value = node.get(name[-1]) if isinstance(node, dict) else None
    if not isinstance(value, list):
        raise PackageError(_path(name), "missing (a list)")
    if not low <= len(value) <= high:
        raise PackageError(
            _path(name), f"{counted(len(value), 'entry', 'entries')}, Teams allows {low} to {high}"
        )
    return value


def check_manifest(manifest: dict[str, Any]) -> None:
    """Raise ``PackageError`` naming the first field Teams would refuse."""
    version = _text(manifest, ("manifestVersion",), 10)
    if version not in MANIFEST_VERSIONS:
        raise PackageError("manifestVersion", f"these limits are for {sorted(MANIFEST_VERSIONS)}")
    check_app_id(_text(manifest, ("id",), 36))
    check_version(_text(manifest, ("version",), MAX_VERSION))
    for parts, limit in TEXT_LIMITS.items():
        _text(manifest, parts, limit)
    for field in URL_FIELDS:
        url = _text(manifest, ("developer", field), MAX_URL)
        if not url.startswith("https://"):
            raise PackageError(f"developer.{field}", f"must be an https:// URL, not {url!r}")
    if not _HEX_COLOR.fullmatch(_text(manifest, ("accentColor",), 7)):
        raise PackageError("accentColor", "must be an HTML colour like #0B4F6C")
    for icon in ICON_SIZES:
        _text(manifest, ("icons", icon), 2048)

    bots = _list(manifest, ("bots",), low=1, high=1)
    bot = bots[0]
    if not isinstance(bot, dict):
        raise PackageError("bots[0]", "must be an object")
    check_app_id(_text(manifest, ("bots", 0, "botId"), 36))
    scopes = _list(bot, ("bots", 0, "scopes"), low=1, high=3)
    if not set(scopes) <= BOT_SCOPES:
        raise PackageError("bots[0].scopes", f"unknown scope in {scopes}")
    lists = bot.get("commandLists", [])
    if not isinstance(lists, list) or len(lists) > MAX_COMMAND_LISTS:
        raise PackageError(
            "bots[0].commandLists", f"at most {MAX_COMMAND_LISTS} lists (one per scope)"
        )
    for index, command_list in enumerate(lists):
        where = ("bots", 0, "commandLists", index)
        if not isinstance(command_list, dict):
            raise PackageError(_path(where), "must be an object")
        _list(command_list, (*where, "scopes"), low=1, high=3)
        commands = _list(command_list, (*where, "commands"), low=1, high=MAX_COMMANDS)
        seen: set[str] = set()
        for number in range(len(commands)):
            command = (*where, "commands", number)
            title = _text(manifest, (*command, "title"), MAX_COMMAND_TITLE)
            _text(manifest, (*command, "description"), MAX_COMMAND_DESCRIPTION)
            if title.strip().lower() in seen:
                raise PackageError(_path((*command, "title")), f"{title!r} appears twice")
            seen.add(title.strip().lower())
    domains = manifest.get("validDomains", [])
    if not isinstance(domains, list):
        raise PackageError("validDomains", "must be a list of host names")
    for index, domain in enumerate(domains):
        try:
            check_domain(str(domain))
        except PackageError as error:
            raise PackageError(f"validDomains[{index}]", error.message) from None
    leftover = re.search(r"\{\{[A-Z_]+\}\}", json.dumps(manifest))
    if leftover:
        raise PackageError(leftover.group(0), "placeholder left in the manifest")


def check_icon(which: str, data: bytes) -> None:
    """A PNG of the size Teams requires for ``which`` (``color`` or ``outline``)."""
    want = ICON_SIZES[which]
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise PackageError(f"icons.{which}", "not a PNG file")
    size = struct.unpack(">II", data[16:24])
    if size != want:
        raise PackageError(
            f"icons.{which}", f"{size[0]}×{size[1]} pixels, Teams requires {want[0]}×{want[1]}"
        )


# --- the package -------------------------------------------------------------------------


def build_manifest(app_id: str, version: str, bot_domain: str | None) -> dict[str, Any]:
    """The checked manifest for this bot, version and (optional) domain."""
    manifest = render_manifest(
        check_app_id(app_id),
        check_version(version),
        None if bot_domain is None else check_domain(bot_domain),
    )
    check_manifest(manifest)
    return manifest


def build_package(app_id: str, version: str, bot_domain: str | None) -> bytes:
    """The zip Teams uploads: manifest.json, color.png and outline.png at its root."""
    manifest = build_manifest(app_id, version, bot_domain)
    files: dict[str, bytes] = {
        "manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    }
    for which in ICON_SIZES:
        name = manifest["icons"][which]
        if "/" in name or "\\" in name:
            raise PackageError(f"icons.{which}", "the icons must be at the root of the package")
        try:
            data = _package_file(name)
        except FileNotFoundError:
            raise PackageError(f"icons.{which}", f"no {name} in bot/teams_package") from None
        check_icon(which, data)
        files[name] = data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


# --- lyttepost teams ---------------------------------------------------------------------

teams_app = typer.Typer(
    help="Microsoft Teams: the app package members install.", no_args_is_help=True
)


@teams_app.callback()
def teams_callback() -> None:
    """Microsoft Teams: the app package members install (see docs/teams-setup.md)."""


@teams_app.command("package")
def teams_package(
    out: Path = typer.Option(Path("lyttepost-teams.zip"), "--out", help="Where to write the zip."),
    version: str = typer.Option(
        "1.0.0",
        "--version",
        help="App version, MAJOR.MINOR.PATCH; raise it whenever the manifest changes.",
    ),
    domain: str | None = typer.Option(
        None, "--domain", help="The bot's public host name (validDomains), e.g. bot.example.no."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Build the Teams app package (manifest.json, color.png, outline.png) for upload."""
    config = settings()
    if not config.microsoft_app_id.strip():
        fail(
            "MICROSOFT_APP_ID is not set: the package needs the Azure Bot's Microsoft App ID "
            "(set it in .env or the environment; see docs/teams-setup.md)"
        )
    try:
        data = build_package(config.microsoft_app_id, version, domain)
    except PackageError as error:
        fail(f"cannot build the Teams package: {error}")
    try:
        out.write_bytes(data)
    except OSError as error:
        fail(f"cannot write {out}: {error}")
    document = {
        "path": str(out),
        "app_id": check_app_id(config.microsoft_app_id),
        "version": check_version(version),
        "size": len(data),
    }
    emit(
        document,
        as_json,
        lambda: typer.echo(
            f"wrote {document['path']} ({document['size']} bytes): Teams app "
            f"{document['app_id']}, version {document['version']}\n"
            "upload it in Teams (Apps → Manage your apps → Upload an app) or to your "
            "organisation's app catalogue; see docs/teams-setup.md"
        ),
    )
