"""Structural rules: dependencies point inward, and .env.example documents every setting."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


def test_services_and_storage_do_not_import_the_adapters() -> None:
    for package in ("services", "storage"):
        for path in (REPO / package).rglob("*.py"):
            assert "bot" not in imported_modules(path), path
            assert "telegram" not in imported_modules(path), path


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
