"""Privacy controls: a patient downloads all their data and deletes their account.

The data is built through the real routes and services: screenings uploaded through the
screening form and analysed by the real analysis job (in this process), a consultation with
chat, two diagnosis versions, a screening request and a finalised report. Deletion is checked
against the schema itself: every row reachable from the patient through foreign keys must be
gone, whatever tables exist.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.care import Notification
from app.models.screening import Screening, ScreeningStatus
from app.models.user import User
from app.security import media_crypto
from app.security.audit import verify_chain
from app.services import chat, consent, consultations, diagnoses, privacy, reports
from app.storage import mailer, media_store
from tests import factories, samples
from tests.helpers import csrf_token, finalise_report, form_data, login

pytestmark = pytest.mark.slow

# Every table the world below fills for the patient: the schema walk must find rows in each.
PATIENT_TABLES = {
    "users", "patient_profiles", "consent_records", "screenings", "screening_frames", "consultations",
    "screening_shares", "chat_messages", "screening_requests", "diagnoses", "care_reports", "notifications",
}


# --- The world ------------------------------------------------------------------------------


@dataclass
class World:
    patient_id: int
    email: str
    name: str
    client: object  # logged in as the patient
    photo_id: int
    clip_id: int
    consultation_id: int
    report_id: int
    doctor_id: int
    other_id: int
    other_screening_id: int


def take(client, media: bytes, answers=(1, 1, 0, 1, 0, 0, 1, 0, 0)) -> int:
    response = client.post("/screenings/new", data=form_data(client, media, answers=list(answers)),
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[-500:]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def analyse(screening_id: int) -> Screening:
    from app.jobs.activation_map import render_activation_map
    from app.jobs.analysis import analyse_screening

    assert analyse_screening(screening_id) == "done"
    assert render_activation_map(screening_id) == "done"  # as when a doctor first opens the map
    screening = db.session.get(Screening, screening_id)
    assert screening.status is ScreeningStatus.DONE
    return screening


def patient_with_client(app, name: str):
    user = factories.patient(name=name)
    consent.grant(user)
    client = app.test_client()
    login(client, user)
    return user, client


@pytest.fixture
def world(app) -> World:
    patient, client = patient_with_client(app, "Olivia Owner")
    photo_id = take(client, samples.astronaut_jpeg(), answers=(2, 2, 1, 2, 1, 1, 1, 1, 0))
    clip_id = take(client, samples.clip_webm(seconds=1.0, fps=4))
    analyse(photo_id)
    clip = analyse(clip_id)
    assert clip.frames and clip.crop_path and clip.gradcam_path

    doctor = factories.doctor(name="Dr Dana Carer")
    consultation = consultations.request_consultation(patient, doctor.id, [photo_id], "I feel low.")
    consultations.accept(doctor, consultation)
    chat.post_message(doctor, consultation, "How have you been sleeping?")
    chat.post_message(patient, consultation, "Badly, for weeks.")
    chat.request_screening(doctor, consultation)
    diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(outcome="rejected", notes="First look."))
    diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderate", plan="psychotherapy", plan_details="CBT weekly",
        followup_interval_days=14, notes="Doctor's private impression of Olivia."))
    report = reports.create(doctor, consultation, comments="Improving slowly.")
    finalise_report(doctor, report)
    reports.create(doctor, consultation, comments="An unfinished draft.")  # never exported

    # Another patient of the same doctor: must come through the deletion untouched.
    other, other_client = patient_with_client(app, "Oscar Other")
    other_screening_id = take(other_client, samples.astronaut_jpeg(with_gps=False))
    analyse(other_screening_id)
    other_consultation = consultations.request_consultation(other, doctor.id, [other_screening_id], "")
    consultations.accept(doctor, other_consultation)
    chat.post_message(other, other_consultation, "Hello doctor.")
    return World(patient_id=patient.id, email=patient.email, name="Olivia Owner", client=client,
                 photo_id=photo_id, clip_id=clip_id, consultation_id=consultation.id, report_id=report.id,
                 doctor_id=doctor.id, other_id=other.id, other_screening_id=other_screening_id)


# --- Walking the schema -----------------------------------------------------------------------


def _key(table, row) -> tuple:
    return tuple(row._mapping[column.name] for column in table.primary_key.columns)


def reachable_rows(user_id: int) -> dict[str, list]:
    """Every row that belongs to the user: the user row, then (in dependency order) each row with
    a foreign key to a row already found, except through SET NULL keys (those rows survive)."""
    found = {"users": list(db.session.execute(select(User.__table__).where(User.__table__.c.id == user_id)))}
    for table in db.metadata.sorted_tables:
        conditions = []
        for column in table.columns:
            for fk in column.foreign_keys:
                if (fk.ondelete or "").upper() == "SET NULL":
                    continue
                values = {row._mapping[fk.column.name] for row in found.get(fk.column.table.name, [])}
                if values:
                    conditions.append(column.in_(values))
        if conditions:
            found.setdefault(table.name, []).extend(db.session.execute(select(table).where(or_(*conditions))))
    return {name: rows for name, rows in found.items() if rows}


def remaining_references(found: dict[str, list]) -> list[str]:
    """Rows still present, or still pointing (by any foreign key) at a row that should be gone."""
    problems = []
    for table in db.metadata.sorted_tables:
        for row in found.get(table.name, []):
            key = _key(table, row)
            same = [column == value for column, value in zip(table.primary_key.columns, key, strict=True)]
            if db.session.execute(select(table).where(*same)).first() is not None:
                problems.append(f"{table.name} {key} still exists")
        for column in table.columns:
            for fk in column.foreign_keys:
                values = {row._mapping[fk.column.name] for row in found.get(fk.column.table.name, [])}
                if values and db.session.scalar(
                        select(func.count()).select_from(table).where(column.in_(values))):
                    problems.append(f"{table.name}.{column.name} still refers to a deleted row "
                                    f"of {fk.column.table.name}")
    return problems


def media_files_of(user_id: int) -> list[Path]:
    folder = media_store.media_root() / "screenings" / str(user_id)
    return sorted(path for path in folder.rglob("*") if path.is_file())


def snapshot(user_id: int) -> dict:
    """Everything of a user, to compare before and after someone else's deletion."""
    rows = {name: sorted(tuple(map(str, row)) for row in found)
            for name, found in reachable_rows(user_id).items()}
    files = {path.name: path.read_bytes() for path in media_files_of(user_id)}
    return {"rows": rows, "files": files}


def post_delete(client, password: str | None = factories.PASSWORD, understood: bool = True,
                token: bool = True):
    data = {}
    if token:
        data["csrf_token"] = csrf_token(client, "/account")
    if password is not None:
        data["password"] = password
    if understood:
        data["understood"] = "y"
    return client.post("/account/delete", data=data)


# --- Export -------------------------------------------------------------------------------------


def test_export_holds_every_category_and_the_decrypted_media(app, world):
    client = world.client
    response = client.post("/account/export", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=moodlens-data-")

    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    data = json.loads(archive.read("data.json"))
    assert "README.txt" in names and "activation-map.png" in archive.read("README.txt").decode()

    assert data["account"]["email"] == world.email and data["profile"]["full_name"] == world.name
    assert [r["kind"] for r in data["consent_records"]] == ["screening"]
    screenings = {s["id"]: s for s in data["screenings"]}
    assert set(screenings) == {world.photo_id, world.clip_id}  # none of the other patient's

    photo, clip = screenings[world.photo_id], screenings[world.clip_id]
    assert [a["score"] for a in photo["phq9"]["answers"]] == [2, 2, 1, 2, 1, 1, 1, 1, 0]
    assert photo["phq9"]["answers"][0]["answer"] == "More than half the days"
    assert photo["phq9"]["total"] == 11 and photo["phq9"]["band"] == "moderate"
    assert photo["facial_analysis"]["face_status"] == "one" and photo["facial_analysis"]["result"]["summary"]
    assert clip["kind"] == "clip" and len(clip["facial_analysis"]["frames"]) == 4
    assert all(f["probabilities"] for f in clip["facial_analysis"]["frames"] if f["face_found"])

    # Media: in the archive, decrypted, and really what they claim to be.
    for screening in (photo, clip):
        for kind, image_format in (("face_crop", "JPEG"), ("activation_map", "PNG")):
            name = screening["media"][kind]["file"]
            assert name in names
            with Image.open(io.BytesIO(archive.read(name))) as image:
                image.load()
                assert image.format == image_format and min(image.size) > 10
    with Image.open(io.BytesIO(archive.read(photo["media"]["upload"]["file"]))) as upload:
        upload.load()
        assert upload.format == "JPEG" and upload.size == (512, 512)
    clip_name = clip["media"]["upload"]["file"]
    assert clip_name.endswith(".webm")
    with av.open(io.BytesIO(archive.read(clip_name))) as video:
        assert sum(1 for _ in video.decode(video=0)) == 4

    (care,) = data["consultations"]
    assert care["doctor"]["name"] == "Dr Dana Carer" and care["status"] == "accepted"
    assert [s["screening_id"] for s in care["shared_screenings"]] == [world.photo_id]
    assert [(m["from"]["name"], m["body"]) for m in care["messages"]][:2] == [
        ("Dr Dana Carer", "How have you been sleeping?"), ("you", "Badly, for weeks.")]
    assert len(care["screening_requests"]) == 1
    assert [(d["version"], d["outcome"]) for d in care["diagnoses"]] == [(1, "rejected"), (2, "confirmed")]
    assert care["diagnoses"][1]["notes"] == "Doctor's private impression of Olivia."
    (report,) = care["reports"]  # the finalised one only, not the draft
    assert report["id"] == world.report_id and report["comments"] == "Improving slowly."
    assert archive.read(report["pdf"]).startswith(b"%PDF")

    kinds = {n["kind"] for n in data["notifications"]}
    assert {"request.accepted", "diagnosis.recorded", "report.final"} <= kinds
    actions = {(e["action"], e["by"]["name"]) for e in data["activity"]}
    assert ("screening.submit", "you") in actions and ("report.finalise", "Dr Dana Carer") in actions
    assert all("ip" not in e for e in data["activity"] if e["by"]["name"] != "you")

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.export")).one()
    assert event.actor_id == event.patient_id == world.patient_id
    assert event.details["media_files"] == 6 and event.details["report_pdfs"] == 1
    assert verify_chain() is None


def test_export_and_privacy_page_are_for_patients_only(app, world):
    page = world.client.get("/account")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'href="/account"' in text and "2 screenings" in text
    assert "what your doctors wrote about you" in text and "<script>" not in text and "style=" not in text
    assert 'id="privacy-link"' in world.client.get("/patient").get_data(as_text=True)

    doctor = app.test_client()
    login(doctor, db.session.get(User, world.doctor_id))
    assert doctor.get("/account").status_code == 403
    token = csrf_token(doctor, "/doctor")
    assert doctor.post("/account/export", data={"csrf_token": token}).status_code == 403
    anonymous = app.test_client()
    assert "/auth/login" in anonymous.get("/account").headers["Location"]


def test_stored_media_cannot_be_opened_as_an_image_without_the_key(app, world):
    screening = db.session.get(Screening, world.photo_id)
    for relative in (screening.media_path, screening.crop_path, screening.gradcam_path):
        raw = (media_store.media_root() / relative).read_bytes()
        assert raw.startswith(media_crypto.MAGIC)
        with pytest.raises(UnidentifiedImageError):
            Image.open(io.BytesIO(raw))
        with pytest.raises(media_crypto.MediaDecryptionError):
            media_crypto.decrypt(raw, relative, key=bytes(32))  # any other key
        with Image.open(io.BytesIO(media_crypto.decrypt(raw, relative))) as image:  # the deployment's key
            image.load()
            assert image.format in {"JPEG", "PNG"}


# --- Deletion -----------------------------------------------------------------------------------


def test_deleting_the_account_purges_rows_and_media_and_keeps_the_audit_chain(app, world):
    found = reachable_rows(world.patient_id)
    assert set(found) >= PATIENT_TABLES, f"the world misses {PATIENT_TABLES - set(found)}"
    files = media_files_of(world.patient_id)
    assert len(files) == 8  # photo and clip: upload, face crop, activation map; the final report: page, PDF
    other_before = snapshot(world.other_id)
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    # Without an SMTP server, e-mails are .eml files: the patient's go too, nobody else's.
    own_mail = Path(mailer.send_mail(world.email, "MoodLens", "A link"))
    other_mail = Path(mailer.send_mail("someone.else@example.org", "MoodLens", "A link"))

    response = post_delete(world.client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/deleted")
    page = world.client.get("/account/deleted").get_data(as_text=True)
    assert "Your account is deleted" in page and "2 screenings" in page and "8 stored files" in page
    assert "2 diagnosis records" in page and "what your doctors wrote about you" in page
    assert "/auth/login" in world.client.get("/account").headers["Location"]  # the session is over
    db.session.expire_all()

    # Rows: nothing reachable from the patient survives, in any table.
    assert remaining_references(found) == []
    assert not own_mail.exists() and other_mail.exists()
    # Media: every file gone, and the patient's folder with them.
    assert not any(path.exists() for path in files)
    assert not (media_store.media_root() / "screenings" / str(world.patient_id)).exists()

    # The audit trail: nothing removed, still verifies, and names no one.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > audit_before
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "Audit chain intact" in verified.output
    for event in db.session.scalars(select(AuditEvent)):
        text = json.dumps([event.target, event.details]).lower()
        assert world.email not in text and "olivia" not in text, (event.action, text)
    deletion = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.delete")).one()
    assert deletion.patient_id == world.patient_id and deletion.details["screenings"] == 2

    # The doctor no longer has a link to the consultation, and hears (without a name) what happened.
    doctor_links = list(db.session.scalars(select(Notification.link).where(
        Notification.user_id == world.doctor_id)))
    assert f"/consultations/{world.consultation_id}" not in doctor_links
    notice = db.session.scalars(select(Notification).where(
        Notification.kind == "patient.account_deleted")).one()
    assert notice.user_id == world.doctor_id and "Olivia" not in notice.text

    # The other patient: every row and every file as before, and the media still decrypt.
    assert snapshot(world.other_id) == other_before
    other = db.session.get(Screening, world.other_screening_id)
    assert media_store.load(other.crop_path).startswith(b"\xff\xd8")
    # The e-mail address can be used again.
    assert factories.patient(email=world.email).id != world.patient_id


@pytest.mark.parametrize("case", ["wrong password", "no password", "not ticked", "no CSRF token"])
def test_a_refused_deletion_says_why_and_deletes_nothing(app, world, case):
    before = snapshot(world.patient_id)
    response = {
        "wrong password": lambda: post_delete(world.client, password="not my password at all"),
        "no password": lambda: post_delete(world.client, password=None),
        "not ticked": lambda: post_delete(world.client, understood=False),
        "no CSRF token": lambda: post_delete(world.client, token=False),
    }[case]()
    text = response.get_data(as_text=True)
    expected = {
        "wrong password": (403, "That password is not correct. Nothing was deleted."),
        "no password": (400, "Enter your password to confirm."),
        "not ticked": (400, "Tick this box to confirm"),
        "no CSRF token": (400, "Your form expired or did not come from this site."),
    }[case]
    assert response.status_code == expected[0] and expected[1] in text, text[-1500:]
    db.session.expire_all()
    assert snapshot(world.patient_id) == before
    assert world.client.get("/account").status_code == 200  # still logged in
    assert verify_chain() is None


def test_a_failed_commit_loses_neither_rows_nor_media(app, world, monkeypatch):
    files = media_files_of(world.patient_id)
    before = snapshot(world.patient_id)
    patient = db.session.get(User, world.patient_id)

    def failing_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        privacy.delete_account(patient, factories.PASSWORD)
    monkeypatch.undo()
    db.session.expire_all()
    assert all(path.exists() for path in files)
    assert snapshot(world.patient_id) == before
    assert verify_chain() is None


@pytest.mark.parametrize("moment", ["after the analysis", "while the results are saved"])
def test_an_account_deleted_during_its_analysis_leaves_no_file(app, monkeypatch, moment):
    """The worker may be analysing a screening while its patient deletes the account: the job
    must leave no face crop or heat map behind for a patient who no longer exists."""
    import app.ml.pipeline as pipeline
    from app.jobs.analysis import analyse_screening

    patient, client = patient_with_client(app, "Quinn Quick")
    patient_id = patient.id
    screening_id = take(client, samples.astronaut_jpeg(with_gps=False))

    def delete_the_account():
        with app.app_context():  # its own session, as the web request's would be
            privacy.delete_account(db.session.get(User, patient_id), factories.PASSWORD)
            db.session.remove()

    if moment == "after the analysis":
        real = pipeline.analyse_photo

        def analyse_photo(*args, **kwargs):
            result = real(*args, **kwargs)
            delete_the_account()
            return result

        monkeypatch.setattr(pipeline, "analyse_photo", analyse_photo)
    else:  # between the job's last look at the row and its commit
        real_save = media_store.save

        def save(data, folder, suffix):
            relative = real_save(data, folder, suffix)
            if suffix == ".crop.jpg":
                delete_the_account()
            return relative

        monkeypatch.setattr(media_store, "save", save)
    assert analyse_screening(screening_id) == "deleted"
    assert media_files_of(patient_id) == []
    db.session.expire_all()
    assert db.session.get(Screening, screening_id) is None


def test_a_patient_with_two_step_login_must_also_give_a_code(app, client):
    patient = factories.with_second_factor(factories.patient())
    patient_id = patient.id
    login(client, patient)
    assert b"Code from your authenticator app" in client.get("/account").data
    refused = post_delete(client)
    assert refused.status_code == 403 and b"Nothing was deleted" in refused.data
    assert db.session.get(User, patient.id) is not None
    data = {"csrf_token": csrf_token(client, "/account"), "password": factories.PASSWORD,
            "understood": "y", "code": factories.totp_code(patient)}
    assert client.post("/account/delete", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, patient_id) is None
