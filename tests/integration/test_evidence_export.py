"""`flask evidence export`: de-identified, consenting patients only."""

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from app.services import research_consent, research_export
from tests import factories


def _done_screening(patient, when: datetime, total: int) -> Screening:
    screening = Screening(
        patient_id=patient.id, kind=ScreeningKind.PHOTO, status=ScreeningStatus.DONE,
        plugin_name="fer-mini-xception", plugin_version="1.0", consent_version="2026-01", created_at=when,
        phq9_answers=[1] * 8 + [0],
        phq9_total=total, phq9_item9=0, phq9_band="mild", affect_indicator=55.0,
        facial_result={"summary": {"indicator": 55.0, "version": "affect-v1", "spread": 3.0,
                                   "negative_share": 0.4, "expressivity": None}})
    db.session.add(screening)
    db.session.commit()
    return screening


def test_export_has_no_identifiers_and_only_consenting_patients(app, tmp_path):
    consenting = factories.patient(email="ada.lovelace@example.org", name="Ada Lovelace")
    refusing = factories.patient(email="bob.builder@example.org", name="Bob Builder")
    research_consent.grant(consenting)
    first, second = datetime(2026, 3, 1, 9, 30), datetime(2026, 3, 15, 9, 30)
    _done_screening(consenting, first, 8)
    _done_screening(consenting, second, 12)
    _done_screening(refusing, first, 20)

    destination = tmp_path / "research.csv"
    result = app.test_cli_runner().invoke(args=["evidence", "export", str(destination)])
    assert result.exit_code == 0, result.output
    text = destination.read_text()
    rows = list(csv.DictReader(io.StringIO(text)))

    assert [row["phq9_total"] for row in rows] == ["8", "12"]  # Bob never consented
    for needle in ("Ada", "Lovelace", "example.org", "@", "Bob", "09:30"):
        assert needle not in text
    assert set(rows[0]) == set(research_export.COLUMNS)
    assert not {"id", "patient_id", "email", "name"} & set(rows[0])
    # One pseudonym per patient; dates shifted by one per-patient amount, intervals kept.
    assert rows[0]["participant"] == rows[1]["participant"] and rows[0]["participant"].startswith("P-")
    dates = [datetime.fromisoformat(row["screening_date"]) for row in rows]
    assert dates[1] - dates[0] == timedelta(days=14)
    shift = research_export.date_shift(b"k" * 32, consenting.id)
    assert abs(shift.days) <= research_export.MAX_SHIFT_DAYS


def test_two_exports_cannot_be_joined_on_pseudonyms(app):
    patient = factories.patient()
    research_consent.grant(patient)
    _done_screening(patient, datetime(2026, 1, 1), 5)
    first, _ = research_export.export_csv()
    second, _ = research_export.export_csv()
    assert next(csv.DictReader(io.StringIO(first)))["participant"] != \
        next(csv.DictReader(io.StringIO(second)))["participant"]


def test_withdrawn_patients_are_left_out(app):
    patient = factories.patient()
    research_consent.grant(patient)
    _done_screening(patient, datetime(2026, 1, 1), 5)
    research_consent.withdraw(patient)
    _, rows = research_export.export_csv()
    assert rows == 0
    assert db.session.scalars(select(Screening)).all()  # the screening itself is untouched
