"""Structural rules: dependencies point inward, and .env.example documents every setting."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {
    "bot", "services", "storage", "scheduler", "telegram", "botbuilder", "aiohttp",
    "sqlalchemy", "apscheduler", "httpx", "asyncio", "os", "socket", "requests",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_dialogs_core_imports_no_io_and_no_outer_layer() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_modules(path) & FORBIDDEN_IN_CORE)
        for path in (REPO / "dialogs").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_reports_take_plain_facts_and_read_no_database() -> None:
    """reports/ turns facts into figures and files; services/report_data.py reads them."""
    forbidden = FORBIDDEN_IN_CORE - {"os"}  # writing the report's files is its job
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_modules(path) & forbidden)
        for path in (REPO / "reports").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


# --- the layers -------------------------------------------------------------------------------
#
# Which of our packages (and the database library) each package may import. Dependencies
# point inward: bot -> scheduler -> services -> {reports, storage} -> dialogs. tests/ and
# bench/ may import anything.
#
#              dialogs  storage  reports  services  scheduler  bot  sqlalchemy
LAYERS = {
    "dialogs":   (),                                                    # pure core: no I/O
    "storage":   ("dialogs",                                           "sqlalchemy"),
    "reports":   ("dialogs",),                        # figures in, files out; no database
    "services":  ("dialogs", "storage", "reports",                     "sqlalchemy"),
    "scheduler": ("dialogs", "storage", "reports", "services",         "sqlalchemy"),
    "bot":       ("dialogs", "storage", "reports", "services", "scheduler", "sqlalchemy"),
}  # fmt: skip
CHECKED = set(LAYERS) | {"sqlalchemy"}
# The chat platforms and the web server are the adapters' business alone.
ADAPTER_LIBRARIES = {"telegram", "botbuilder", "botframework", "aiohttp"}


def layer_offenders(package: str) -> dict[str, list[str]]:
    """Each module of ``package`` with what it imports that the table does not allow."""
    allowed = {package, *LAYERS[package]}
    offenders = {}
    for path in sorted((REPO / package).rglob("*.py")):
        wrong = (imported_modules(path) & CHECKED) - allowed
        if package != "bot":
            wrong |= imported_modules(path) & ADAPTER_LIBRARIES
        if wrong:
            offenders[str(path.relative_to(REPO))] = sorted(wrong)
    return offenders


def test_the_layer_table_names_every_package_we_ship() -> None:
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(LAYERS)


@pytest.mark.parametrize("package", list(LAYERS))
def test_each_package_imports_only_the_layers_beneath_it(package: str) -> None:
    assert layer_offenders(package) == {}


# --- no SQL in bot/ ------------------------------------------------------------------------------
#
# bot/ parses input, calls services/ and prints; a module here may hold a session it got
# from a helper and pass it on (typed as storage.sessions.Sessions), but it does not query
# the database itself: it imports neither SQLAlchemy (sqlalchemy.exc, to catch its errors,
# is fine) nor storage.orm or storage.db. The composition root builds the server's parts,
# so it is exempt; it and the CLI's bootstrap open the database through services/database.py
# (docs/decisions/0014).
COMPOSITION_ROOT = {"bot/app.py"}


def sql_imports(path: Path) -> list[str]:
    """What a module imports that touches the database directly."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{alias.name}" for alias in node.names]

    def direct(name: str) -> bool:
        if name == "sqlalchemy.exc" or name.startswith("sqlalchemy.exc."):
            return False
        return any(
            name == root or name.startswith(root + ".")
            for root in ("sqlalchemy", "storage.orm", "storage.db")
        )

    return sorted({name for name in names if direct(name)})


def test_the_sql_check_sees_every_way_of_importing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import sqlalchemy\nfrom sqlalchemy import select\nfrom storage import orm\n"
        "from storage.db import create_engine\nfrom sqlalchemy.exc import SQLAlchemyError\n"
        "from sqlalchemy import exc\nfrom storage.files import FileStore\n"
        "def f():\n    from storage.orm import Round\n",
        encoding="utf-8",
    )
    assert sql_imports(module) == [
        "sqlalchemy", "sqlalchemy.select", "storage.db.create_engine", "storage.orm",
        "storage.orm.Round",
    ]  # fmt: skip


def test_no_sql_in_bot_outside_the_composition_root() -> None:
    with_sql = {
        str(path.relative_to(REPO)): sql_imports(path)
        for path in sorted((REPO / "bot").rglob("*.py"))
        if sql_imports(path) and str(path.relative_to(REPO)) not in COMPOSITION_ROOT
    }
    assert with_sql == {}, "move the queries into services/ or storage/"


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_env_example_values_are_valid_settings(monkeypatch) -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    for name, value in re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE):
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
