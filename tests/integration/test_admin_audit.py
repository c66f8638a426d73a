"""/admin/audit and `flask audit verify`: filters, pagination, tamper detection."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text, update

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.security import audit
from tests import factories
from tests.helpers import csrf_token


def _ids(html: str) -> list[int]:
    return [int(part.split('"')[0]) for part in html.split('id="event-')[1:]]


def test_filters_by_action_actor_patient_and_date(app, admin_client, admin, patient):
    other = factories.patient()
    audit.record("record.view", actor_id=admin.id, patient_id=patient.id)
    audit.record("record.view", actor_id=admin.id, patient_id=other.id)
    old = audit.record("export.pdf", actor_id=patient.id, patient_id=patient.id)
    db.session.commit()

    html = admin_client.get("/admin/audit?action=record.view").get_data(as_text=True)
    views = db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == "record.view")).all()
    assert sorted(_ids(html)) == sorted(views)
    html = admin_client.get(f"/admin/audit?patient={patient.email}&action=record.view").get_data(as_text=True)
    assert len(_ids(html)) == 1 and patient.email in html
    html = admin_client.get(f"/admin/audit?actor={patient.id}&action=export.pdf").get_data(as_text=True)
    assert _ids(html) == [old.id]
    # A prefix ending in "." selects a family of actions.
    html = admin_client.get("/admin/audit?action=record.").get_data(as_text=True)
    assert len(_ids(html)) == 2
    # Dates are inclusive; an unknown e-mail matches nothing rather than everything.
    today = utcnow().date()
    same_day = admin_client.get(f"/admin/audit?since={today}&until={today}&action=export.pdf")
    assert _ids(same_day.get_data(as_text=True)) == [old.id]
    tomorrow = today + timedelta(days=1)
    assert _ids(admin_client.get(f"/admin/audit?since={tomorrow}").get_data(as_text=True)) == []
    assert _ids(admin_client.get("/admin/audit?actor=nobody@example.org").get_data(as_text=True)) == []
    # Nonsense input is a form error, not a 500.
    bad = admin_client.get(f"/admin/audit?since=yesterday&until={today}")
    assert bad.status_code == 200 and "Not a valid date value" in bad.get_data(as_text=True)
    reversed_range = admin_client.get(f"/admin/audit?since={tomorrow}&until={today}").get_data(as_text=True)
    assert "end date is before the start date" in reversed_range


def test_paginated_newest_first(app, admin_client):
    for number in range(60):
        audit.record("test.bulk", details={"n": number})
    db.session.commit()
    first = admin_client.get("/admin/audit?action=test.bulk").get_data(as_text=True)
    ids = _ids(first)
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert "Page 1 of 2" in first
    next_link = first.split('rel="next" href="')[1].split('"')[0]
    assert "action=test.bulk" in next_link and "page=2" in next_link
    second = admin_client.get("/admin/audit?action=test.bulk&page=2").get_data(as_text=True)
    assert len(_ids(second)) == 10 and max(_ids(second)) < min(ids)


def test_admin_actions_are_audited_and_shown(app, admin_client, admin):
    applicant = factories.doctor(verified=False)
    admin_client.post(f"/admin/doctors/{applicant.id}/verify",
                      data={"csrf_token": csrf_token(admin_client, "/admin/doctors")})
    html = admin_client.get(f"/admin/audit?actor={admin.email}").get_data(as_text=True)
    assert "doctor.verify" in html and f"user:{applicant.id}" in html


def _tamper(event_id: int) -> None:
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(target="user:forged"))
    db.session.commit()


def test_verify_page_and_cli_report_the_first_broken_link(app, admin_client):
    events = [audit.record("test.event", details={"n": n}) for n in range(5)]
    db.session.commit()
    runner = app.test_cli_runner()
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0 and "intact" in intact.output
    assert "The chain is intact" in admin_client.get("/admin/audit/verify").get_data(as_text=True)

    _tamper(events[2].id)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at event {events[2].id}" in broken.output and "content altered" in broken.output
    page = admin_client.get("/admin/audit/verify").get_data(as_text=True)
    assert f"broken at event #{events[2].id}" in page


def test_deleting_a_row_is_reported_at_the_next_one(app):
    events = [audit.record("test.event", details={"n": n}) for n in range(4)]
    db.session.commit()
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"event {events[2].id}" in result.output and "missing" in result.output
