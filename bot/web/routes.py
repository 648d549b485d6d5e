"""Mounting the workspace on the one aiohttp application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web.actions import add_action_routes
from bot.web.api import add_api_routes
from bot.web.context import WORKSPACE, Workspace
from bot.web.login import add_login_routes
from bot.web.members import add_member_routes
from bot.web.members_facts import add_member_facts_routes
from bot.web.members_org import add_organisation_respondent_routes
from bot.web.need_groups import add_need_group_routes
from bot.web.overview import overview
from bot.web.plan import add_plan_routes
from bot.web.publications import add_publication_routes
from bot.web.render import setup_templates
from bot.web.results import add_result_routes
from bot.web.rounds import add_round_routes
from bot.web.staff import add_staff_routes
from bot.web.surveys import add_survey_routes
from bot.web.texts import add_texts_routes

STATIC = Path(__file__).parent / "static"


def add_workspace(app: web.Application, workspace: Workspace) -> None:
    """Pages, login and static files at the site's root."""
    app[WORKSPACE] = workspace
    setup_templates(app, workspace)
    app.router.add_static("/static/", STATIC, append_version=False)
    add_login_routes(app, workspace)
    app.router.add_get("/", overview)
    add_round_routes(app)
    add_result_routes(app)
    add_need_group_routes(app)
    add_action_routes(app)
    add_plan_routes(app)
    add_api_routes(app)
    add_staff_routes(app)
    add_survey_routes(app)
    add_publication_routes(app)
    add_member_routes(app)
    add_member_facts_routes(app)
    add_organisation_respondent_routes(app)
    add_texts_routes(app)
