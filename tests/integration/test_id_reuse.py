"""No id is ever handed out twice (AUTOINCREMENT on SQLite), and a patient's history is selected
by their account subject: after one patient deletes their account and another registers, the
newcomer's export and the admin console show none of the old history. (A database that reused
an id before the upgrade: tests/integration/test_migration_hardening.py.)"""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import inspect

from app.extensions import db
from app.services import consent, privacy
from tests import factories
from tests.helpers import csrf_token, login


def _export(app, user) -> dict:
    client = app.test_client()
    login(client, user)
    response = client.post("/account/export", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 200
    return json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("data.json"))


def test_a_new_patient_inherits_nothing_from_a_deleted_one(app):
    admin = factories.admin()
    first = factories.patient("first@example.org", name="First Person")
    consent.grant(first)
    factories.screening(first, total=20)
    first_id = first.id
    privacy.delete_account(first, factories.PASSWORD)

    second = factories.patient("second@example.org", name="Second Person")
    assert second.id != first_id  # never reused, on SQLite too
    activity = _export(app, second)["activity"]
    assert {e["action"] for e in activity} <= {"account.register", "auth.login", "privacy.export"}
    assert not [e for e in activity if e["action"].startswith(("consent.", "privacy.delete"))]

    client = app.test_client()
    login(client, admin)
    html = client.get(f"/admin/audit?patient={second.email}").get_data(as_text=True)
    rows = html.split('<tr id="event-')[1:]
    assert rows and not [row for row in rows if "consent.grant" in row or "privacy.delete" in row]
    html = client.get("/admin/audit").get_data(as_text=True)
    old_rows = [row for row in html.split('<tr id="event-')[1:] if "consent.grant" in row]
    assert old_rows and all("second@example.org" not in row for row in old_rows)
    assert all("(deleted)" in row for row in old_rows)


def test_every_referenced_table_is_autoincrement_on_sqlite(app):
    if db.engine.dialect.name != "sqlite":
        return
    names = [table for table in inspect(db.engine).get_table_names()
             if table not in {"patient_profiles", "doctor_profiles", "plugin_settings", "alembic_version"}]
    ddl = dict(db.session.execute(db.text("SELECT name, sql FROM sqlite_master WHERE type='table'")).all())
    assert [name for name in names if "AUTOINCREMENT" not in ddl[name]] == []
