"""Ansatte og logg: admins manage staff accounts in the workspace, and read the audit log."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from services import audit
from tests.workspace_support import Browser, WorkspaceSite, csrf_in, workspace_site


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


async def test_an_admin_adds_a_colleague_and_hands_over_a_login_link(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada Admin", "ada@ks.no", "admin")
    token = await admin.csrf("/ansatte")
    added = await admin.post(
        "/ansatte",
        {"csrf_token": token, "navn": "Rune Rådgiver", "epost": "Rune@KS.no", "rolle": "staff"},
    )
    assert added.status == 303
    page = await admin.get(added.headers["Location"])
    html = await page.text()
    assert "Kontoen er lagt til." in html and "rune@ks.no" in html
    staff_id = re.search(r'action="/ansatte/(\d+)/lenke"', html.split("rune@ks.no")[1]).group(1)  # type: ignore[union-attr]
    shown = await admin.post(f"/ansatte/{staff_id}/lenke", {"csrf_token": token})
    link = re.search(r'value="(http://[^"]+/logg-inn/lenke/[^"]+)"', await shown.text())
    assert link is not None
    rune = Browser(site, site.client)
    assert (await rune.use_link(urlsplit(link.group(1)).path)).status == 303
    assert "Rune Rådgiver" in await (await rune.get("/")).text()
    async with site.sessions() as session:
        done = [e.action for e in await audit.entries(session, audit.AuditQuery(staff_id=None))]
    assert {"staff.add", "staff.login_link", "staff.login"} <= set(done)


async def test_bad_input_is_refused_in_norwegian_and_nothing_is_saved(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada Admin", "ada@ks.no", "admin")
    token = await admin.csrf("/ansatte")
    cases = [
        ({"navn": "", "epost": "x@ks.no", "rolle": "staff"}, "Skriv inn et navn."),
        ({"navn": "X", "epost": "ikke-en-adresse", "rolle": "staff"}, "gyldig e-postadresse"),
        ({"navn": "X", "epost": "x@ks.no", "rolle": "sjef"}, "Velg en rolle."),
        ({"navn": "Ada", "epost": "ADA@ks.no", "rolle": "staff"}, "finnes allerede en konto"),
    ]
    for form, says in cases:
        response = await admin.post("/ansatte", {"csrf_token": token, **form})
        assert response.status == 422 and says in await response.text(), form
    page = await (await admin.get("/ansatte")).text()
    assert "x@ks.no" not in page


async def test_a_role_change_and_a_deactivation_take_effect_at_once(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada Admin", "ada@ks.no", "admin")
    vera = await site.signed_in("Vera Leser", "vera@ks.no", "viewer")
    assert (await vera.get("/ansatte")).status == 403
    token = await admin.csrf("/ansatte")
    vera_id = await _id_of(site, "vera@ks.no")
    assert (
        await admin.post(f"/ansatte/{vera_id}/rolle", {"csrf_token": token, "rolle": "admin"})
    ).status == 303
    assert (await vera.get("/ansatte")).status == 200
    assert (await admin.post(f"/ansatte/{vera_id}/deaktiver", {"csrf_token": token})).status == 303
    assert (await vera.get("/")).status == 303  # signed out everywhere


async def test_an_admin_cannot_lock_themselves_out(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada Admin", "ada@ks.no", "admin")
    token = await admin.csrf("/ansatte")
    ada_id = await _id_of(site, "ada@ks.no")
    demoted = await admin.post(f"/ansatte/{ada_id}/rolle", {"csrf_token": token, "rolle": "viewer"})
    assert demoted.status == 409 and "administratorrollen" in await demoted.text()
    gone = await admin.post(f"/ansatte/{ada_id}/deaktiver", {"csrf_token": token})
    assert gone.status == 409
    assert (await admin.get("/ansatte")).status == 200
    assert (await admin.post("/ansatte/99999/deaktiver", {"csrf_token": token})).status == 404


async def test_the_audit_log_filters_by_person_action_and_date(site: WorkspaceSite) -> None:
    admin = await site.signed_in("Ada Admin", "ada@ks.no", "admin")
    token = await admin.csrf("/ansatte")
    await admin.post(
        "/ansatte", {"csrf_token": token, "navn": "Rune", "epost": "rune@ks.no", "rolle": "staff"}
    )
    ada_id = await _id_of(site, "ada@ks.no")
    everything = await (await admin.get("/logg")).text()
    assert "staff.add" in everything and "staff.login" in everything
    only_adds = await (await admin.get(f"/logg?person={ada_id}&handling=staff.add")).text()
    table = only_adds.split("<tbody>")[1]
    assert "staff.add" in table and "staff.login" not in table
    future = await (await admin.get("/logg?fra=2999-01-01")).text()
    assert "Ingen oppføringer." in future
    assert (await admin.get("/logg?fra=not-a-date&person=x")).status == 200  # ignored, not a 500
    assert csrf_in(everything)


async def _id_of(site: WorkspaceSite, email: str) -> int:
    from services.staff import by_email

    async with site.sessions() as session:
        staff = await by_email(session, email)
        assert staff is not None
        return staff.id
