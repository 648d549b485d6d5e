"""Rendering a workspace page: the template, the visitor, the navigation and filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.security import VISITOR, Visitor, harden
from dialogs.dates import format_date, format_datetime
from dialogs.texts import nb_number
from services.staff import ROLE_NAMES_NB, Role, has_role


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    role: Role


NAVIGATION = [
    NavItem("/", "Oversikt", "viewer"),
    NavItem("/runder", "Runder", "viewer"),
    NavItem("/resultater", "Resultater", "viewer"),
    NavItem("/tiltak", "Tiltak", "viewer"),
    NavItem("/publiseringer", "Publiseringer", "staff"),
    NavItem("/medlemmer", "Medlemmer", "staff"),
    NavItem("/undersokelser", "Undersøkelser", "admin"),
    NavItem("/arsplan", "Årsplan", "admin"),
    NavItem("/ansatte", "Ansatte og logg", "admin"),
    NavItem("/tekster", "Tekster og språk", "admin"),
]


def navigation(visitor: Visitor | None) -> list[NavItem]:
    """The pages the visitor's role opens."""
    if visitor is None:
        return []
    return [item for item in NAVIGATION if has_role(visitor.staff, item.role)]


def setup_templates(app: web.Application, workspace: Workspace) -> None:
    """Jinja2 with autoescape on (aiohttp-jinja2's default) and Norwegian formatting."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.web", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )
    zone = workspace.zone
    environment.filters["dato"] = lambda moment: format_date(moment, zone) if moment else "–"
    environment.filters["tidspunkt"] = lambda moment: (
        format_datetime(moment, zone) if moment else "–"
    )
    environment.filters["prosent"] = percent
    environment.filters["tall"] = lambda value: nb_number(value)
    environment.globals["role_names"] = ROLE_NAMES_NB


def percent(share: float, decimals: int = 0) -> str:
    """0.423 -> '42 %' (Norwegian: space before the sign, comma for decimals)."""
    return f"{share * 100:.{decimals}f}".replace(".", ",") + "\u00a0%"


def page(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    title: str,
) -> web.StreamResponse:
    """A full page for a signed-in visitor (or the login pages, with no visitor)."""
    visitor = request.get(VISITOR)
    full = {
        "title": title,
        "visitor": visitor,
        "csrf_token": visitor.csrf_token if isinstance(visitor, Visitor) else "",
        "navigation": navigation(visitor if isinstance(visitor, Visitor) else None),
        "current_path": request.path,
        "now": workspace_of(request).now(),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, full, status=status)
    return harden(response)
