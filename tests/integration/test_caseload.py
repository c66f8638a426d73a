"""The doctor's caseload through its routes: rows, attention order, filters as htmx partials,
access, no N+1, CSV export and its audit, one-click actions, treat-to-target prompts, and the
same definitions in the report and the patient's history."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import event, func, select

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.models.care import Consultation, Diagnosis, ScreeningRequest, ScreeningShare
from app.models.care_prompts import PromptDismissal
from app.services import caseload, consultations, episodes, followups, reports
from tests import factories
from tests.helpers import client_for, finalise_report, post
from tests.integration.caseload_helpers import episode


def row_order(page: str) -> list[str]:
    return re.findall(r'class="caseload-name">([^<]+)<', page)


def mixed_caseload(doctor):
    """One patient per attention group, plus a responder and a remission."""
    people = {}
    people["responder"] = episode(doctor, "Rita Responder", [(10, 20), (0, 8)], diagnosed_weeks_ago=10)
    people["remission"] = episode(doctor, "Remy Remission", [(8, 14), (1, 3)], diagnosed_weeks_ago=8)
    people["stuck"] = episode(doctor, "Stan Stuck", [(11, 18), (0, 16)], diagnosed_weeks_ago=11)
    people["late"] = episode(doctor, "Olga Overdue", [(6, 12), (4, 9)], diagnosed_weeks_ago=6)
    people["worse"] = episode(doctor, "Will Worse", [(3, 10), (0, 16)], diagnosed_weeks_ago=3)
    people["item9"] = episode(doctor, "Ines Item", [(3, 12), (0, 9)], diagnosed_weeks_ago=3, item9_last=1)
    return people


def test_rows_show_the_definitions_and_the_most_urgent_come_first(app, doctor):
    mixed_caseload(doctor)
    client = client_for(app, doctor)
    page = client.get("/doctor/caseload").get_data(as_text=True)
    assert row_order(page) == ["Ines Item", "Will Worse", "Olga Overdue", "Stan Stuck",
                               "Rita Responder", "Remy Remission"]
    rita = page[page.index("Rita Responder"):]
    rita = rita[:rita.index("</tr>")]
    assert "response" in rita and "\u221212" in rita and "(\u221260 %)" in rita
    assert ">20<" in rita and "<strong>8</strong>" in rita and "Mild" in rita
    assert 'role="img" aria-label="PHQ-9 20 to 8 over 10 weeks, 2 screenings; facial-affect indicator' in rita
    assert "no response at 10+ weeks" in page and "remission" in page
    assert 'class="care-tag care-tag-urgent caseload-flag">item 9<' in page
    assert "overdue" in page[page.index("Olga Overdue"):][:3000]
    home = client.get("/doctor").get_data(as_text=True)
    assert home.index("caseload-home") < home.index("care-doctor-panels")
    assert "Ines Item" in home and "Open the caseload" in home


def test_filters_are_htmx_partials_that_keep_a_bookmarkable_url(app, doctor):
    mixed_caseload(doctor)
    client = client_for(app, doctor)
    full = client.get("/doctor/caseload?status=response")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers.get("Vary", "")
    assert row_order(full.get_data(as_text=True)) == ["Rita Responder"]
    assert '<option selected value="response">' in full.get_data(as_text=True)  # the form shows it

    fragment = client.get("/doctor/caseload?flagged=y", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and row_order(fragment) == ["Ines Item"]
    restored = client.get("/doctor/caseload?flagged=y",
                          headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)  # back/forward get the whole page

    assert row_order(client.get("/doctor/caseload?overdue=y").get_data(as_text=True)) == ["Olga Overdue"]
    assert row_order(client.get("/doctor/caseload?q=will").get_data(as_text=True)) == ["Will Worse"]
    assert row_order(client.get("/doctor/caseload?q=%25").get_data(as_text=True)) == []  # no wildcard
    by_name = row_order(client.get("/doctor/caseload?sort=name").get_data(as_text=True))
    assert by_name == sorted(by_name)
    bad = client.get("/doctor/caseload?status=cured")
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)
    assert client.get("/doctor/caseload?q=" + "x" * 101).status_code == 400


def test_a_doctor_sees_only_their_own_active_patients_and_past_ones_without_screenings(app, doctor):
    mine, consultation = episode(doctor, "Mia Mine", [(4, 15), (0, 9)], diagnosed_weeks_ago=4)
    other_doctor = factories.doctor(name="Other Doctor")
    episode(other_doctor, "Theo Theirs", [(2, 14)], diagnosed_weeks_ago=2)
    gone, closed = episode(doctor, "Carl Closed", [(6, 22), (1, 17)], diagnosed_weeks_ago=6)
    consultations.close(gone, closed)
    client = client_for(app, doctor)
    page = client.get("/doctor/caseload").get_data(as_text=True)
    assert row_order(page) == ["Mia Mine"]
    assert "Theo Theirs" not in page and "Carl Closed" not in page

    past = client.get("/doctor/caseload?past=y").get_data(as_text=True)
    assert "Carl Closed" in past and "Mia Mine" not in past
    table = past[past.index('id="caseload-table"'):]
    assert "Severe" in table and "Psychotherapy" in table      # what the doctor wrote
    assert ">22<" not in table and ">17<" not in table         # not the patient's screenings

    # A screening the patient stops sharing leaves the row at once.
    share = db.session.scalars(select(ScreeningShare).where(
        ScreeningShare.consultation_id == consultation.id).order_by(ScreeningShare.id.desc())).first()
    consultations.revoke_share(mine, consultation, share.id)
    row = client.get("/doctor/caseload").get_data(as_text=True)
    assert "<strong>15</strong>" in row and "<strong>9</strong>" not in row

    # Another doctor cannot act on my rows.
    other = client_for(app, other_doctor)
    asked = post(other, f"/doctor/caseload/{consultation.id}/screening-request", page="/doctor")
    assert asked.status_code == 404
    assert other.get(f"/doctor/caseload/{consultation.id}/followup").status_code == 404


def test_an_unverified_doctor_has_no_caseload(app):
    pending = factories.doctor(verified=False)
    client = client_for(app, pending)
    assert client.get("/doctor/caseload").status_code == 403
    assert client.get("/doctor/caseload.csv").status_code == 403


def _statements_for(client, url: str) -> int:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_the_number_of_queries_does_not_grow_with_the_caseload(app, doctor):
    client = client_for(app, doctor)
    episode(doctor, "First Patient", [(5, 15), (3, 12), (0, 9)], diagnosed_weeks_ago=5)
    small = _statements_for(client, "/doctor/caseload")
    for number in range(8):
        episode(doctor, f"Patient {number}", [(6, 18), (4, 14), (2, 11), (0, 7)], diagnosed_weeks_ago=6)
    large = _statements_for(client, "/doctor/caseload")
    assert large == small, (small, large)
    assert large <= 15
    assert _statements_for(client, "/doctor/caseload?past=y") <= 15


def test_csv_export_holds_own_patients_and_its_audit_no_clinical_value(app, doctor):
    mixed_caseload(doctor)
    episode(factories.doctor(), "Theo Theirs", [(2, 14)], diagnosed_weeks_ago=2)
    episode(doctor, "=HYPERLINK(\"x\")", [(2, 10)], diagnosed_weeks_ago=2)
    client = client_for(app, doctor)
    response = client.get("/doctor/caseload.csv?sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    names = [row["patient"] for row in rows]
    assert "Theo Theirs" not in names and len(rows) == 7
    assert "'=HYPERLINK(\"x\")" in names  # never a live formula in a spreadsheet
    rita = next(row for row in rows if row["patient"] == "Rita Responder")
    assert (rita["latest_phq9"], rita["baseline_phq9"], rita["change_percent"], rita["status"]) == \
        ("8", "20", "-60", "response")
    flagged = client.get("/doctor/caseload.csv?flagged=y").get_data(as_text=True)
    assert flagged.count("\n") == 2

    exports = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "caseload.export")))
    assert len(exports) == 2 and all(e.actor_id == doctor.id and e.patient_id is None for e in exports)
    assert exports[0].details == {"rows": 7, "filtered": True}
    recorded = " ".join(f"{e.target} {e.details}" for e in exports)
    assert "Rita" not in recorded and "response" not in recorded and "20" not in recorded


def test_one_click_actions_ask_for_a_screening_and_set_the_follow_up(app, doctor):
    patient, consultation = episode(doctor, "Ada Action", [(3, 14), (1, 12)], diagnosed_weeks_ago=3)
    client = client_for(app, doctor)
    response = post(client, f"/doctor/caseload/{consultation.id}/screening-request",
                    {"return_query": "status=not_yet&sort=name"}, page="/doctor/caseload")
    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/caseload?status=not_yet&sort=name"
    assert db.session.scalar(select(func.count()).select_from(ScreeningRequest)) == 1
    assert "Screening asked" in client.get("/doctor/caseload").get_data(as_text=True)

    form = client.get(f"/doctor/caseload/{consultation.id}/followup").get_data(as_text=True)
    assert 'value="14"' in form
    bad = post(client, f"/doctor/caseload/{consultation.id}/followup", {"days": "0"}, page="/doctor/caseload")
    assert bad.status_code == 400 and "between 1 and 180 days" in bad.get_data(as_text=True)
    response = post(client, f"/doctor/caseload/{consultation.id}/followup",
                    {"days": "5", "return_query": "q=ada"}, page="/doctor/caseload")
    assert response.status_code == 302 and response.headers["Location"] == "/doctor/caseload?q=ada"
    db.session.expire_all()
    current = db.session.get(Consultation, consultation.id).current_diagnosis
    assert current.version == 2 and current.followup_interval_days == 5
    assert current.severity == "moderate" and current.plan.value == "psychotherapy"
    due = followups.next_followup(db.session.get(Consultation, consultation.id)).due_at
    assert abs(due - (utcnow() + timedelta(days=5))) < timedelta(minutes=1)

    _, undiagnosed = episode(doctor, "Una Undiagnosed", [(1, 12)])
    assert "confirm a diagnosis first" in client.get(
        f"/doctor/caseload/{undiagnosed.id}/followup").get_data(as_text=True)
    refused = post(client, f"/doctor/caseload/{undiagnosed.id}/followup", {"days": "7"},
                   page="/doctor/caseload")
    assert refused.status_code == 409


def test_treat_to_target_prompts_are_dismissed_with_a_reason_and_come_back_with_new_evidence(app, doctor):
    patient, consultation = episode(doctor, "Stan Stuck", [(11, 18), (0, 16)], diagnosed_weeks_ago=11)
    client = client_for(app, doctor)
    detail = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert f'hx-get="/consultations/{consultation.id}/prompts"' in detail
    url = f"/consultations/{consultation.id}/prompts"
    assert client.get(url).status_code == 302  # a fragment opened as a page goes back to the page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert ("No response after 11 weeks of treatment (PHQ-9 18 → 16, \u221211 %): "
            "consider adjusting the plan") in fragment
    screening_id = re.search(r'name="screening_id" value="(\d+)"', fragment).group(1)

    empty = post(client, f"{url}/dismiss", {"kind": "no_response", "screening_id": screening_id,
                                            "reason": " "}, page="/doctor/caseload")
    assert empty.status_code == 400 and "Give a reason" in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PromptDismissal)) == 0
    stale = post(client, f"{url}/dismiss", {"kind": "remission", "screening_id": screening_id, "reason": "x"},
                 page="/doctor/caseload")
    assert stale.status_code == 409
    done = post(client, f"{url}/dismiss", {"kind": "no_response", "screening_id": screening_id,
                                           "reason": "Dose increased last week"},
                page="/doctor/caseload", headers={"HX-Request": "true"})
    assert done.status_code == 200 and "No response after" not in done.get_data(as_text=True)
    dismissal = db.session.scalars(select(PromptDismissal)).one()
    assert dismissal.reason == "Dose increased last week" and dismissal.doctor_id == doctor.id
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "care_prompt.dismiss")).one()
    assert trail.details == {"dismissal_id": dismissal.id} and "Dose" not in str(trail.details)

    # A newer screening that still shows no response brings the prompt back.
    newer = factories.screening(patient, 17, days_ago=0)
    db.session.add(ScreeningShare(consultation_id=consultation.id, screening_id=newer.id, source="follow_up"))
    db.session.commit()
    assert "No response after" in client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_report_and_patient_history_use_the_same_definitions(app, doctor):
    patient, consultation = episode(doctor, "Rita Responder", [(10, 20), (0, 8)], diagnosed_weeks_ago=10)
    report = finalise_report(doctor, factories.report(doctor, consultation))
    content = reports.content(report)
    assert content["outcome"].responded and not content["outcome"].remitted
    page = client_for(app, doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    section = page[page.index('id="report-outcome"'):]
    assert "change \u221212 points (\u221260 %)" in section
    assert re.search(r'id="report-response">Response[^<]*<strong>yes', section)
    assert re.search(r'id="report-remission">Remission[^<]*<strong>no', section)
    history = client_for(app, patient).get("/patient/history").get_data(as_text=True)
    assert "Your score has dropped by half or more since you started treatment (from 20 to 8)." in history


def test_diagnoses_untouched_by_viewing(app, doctor):
    mixed_caseload(doctor)
    before = db.session.scalar(select(func.count()).select_from(Diagnosis))
    client_for(app, doctor).get("/doctor/caseload")
    assert db.session.scalar(select(func.count()).select_from(Diagnosis)) == before


def test_the_bulk_rows_agree_with_the_outcome_of_each_episode(app, doctor):
    """The caseload reads only the screenings the definitions need; the full episode agrees."""
    mixed_caseload(doctor)
    # Screenings before and after the diagnosis: the baseline is the last one before it.
    _, long = episode(doctor, "Lou Long", [(14, 9), (12, 21), (11, 19), (8, 15), (5, 14), (2, 12), (0, 11)],
                      diagnosed_weeks_ago=11.5)
    _, undiagnosed = episode(doctor, "Una Undiagnosed", [(3, 14), (1, 9), (0, 12)])
    rows = {row.consultation_id: row for row in caseload.active_rows(doctor.id)}
    assert len(rows) == 8
    for consultation_id, row in rows.items():
        full = episodes.episode_outcome(db.session.get(Consultation, consultation_id), until=utcnow())
        assert (row.outcome.baseline, row.outcome.latest, row.outcome.previous, row.outcome.status,
                row.outcome.worsening) == (full.baseline, full.latest, full.previous, full.status,
                                           full.worsening), row.patient_name
    assert rows[long.id].outcome.baseline.total == 21 and rows[long.id].outcome.status.value == "no_response"
    assert rows[undiagnosed.id].outcome.baseline.total == 14


def test_dismissals_are_in_the_patients_export_and_go_with_the_account(app, doctor):
    import json
    import zipfile

    from app.services import privacy

    patient, consultation = episode(doctor, "Stan Stuck", [(11, 18), (0, 16)], diagnosed_weeks_ago=11)
    prompt = episodes.open_prompts(consultation)[0]
    episodes.dismiss_prompt(doctor, consultation, prompt.kind, prompt.screening_id, "Plan changed by phone")
    export = privacy.build_export(patient)
    with zipfile.ZipFile(export.file) as archive:
        document = json.loads(archive.read("data.json"))
    dismissed = document["consultations"][0]["treat_to_target_prompts_dismissed"]
    assert [(d["prompt"], d["reason"]) for d in dismissed] == [("no_response", "Plan changed by phone")]
    privacy.delete_account(patient, factories.PASSWORD)
    assert db.session.scalar(select(func.count()).select_from(PromptDismissal)) == 0
