"""The local validation study on a real database: the simulated cohort's known separation is
recovered, small groups are suppressed, and a withdrawal takes effect at the next refresh."""

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.care import Consultation, ConsultationStatus, Diagnosis, DiagnosisOutcome
from app.models.evidence import EvidenceSnapshot
from app.models.screening import Screening
from app.models.user import User
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import evidence, research_consent, simulated_cohort
from app.services.simulated_cohort import SIMULATED_DOMAIN


def test_the_computed_auc_recovers_the_simulated_separation(app):
    cohort = simulated_cohort.seed(200, DEFAULT_PLUGIN, separation=1.2, seed_value=3)
    snapshots = evidence.refresh()
    db.session.commit()
    [snapshot] = snapshots
    assert (snapshot.media_kind, snapshot.reference) == ("photo", "phq9")
    assert (snapshot.plugin_name, snapshot.plugin_version) == (DEFAULT_PLUGIN, "simulated")
    assert snapshot.n_positive + snapshot.n_negative == 200
    auc = snapshot.figures["auc"]
    assert auc["low"] <= cohort.true_auc <= auc["high"]
    assert auc["low"] > 0.5  # the signal is really there, not just a wide interval
    assert snapshot.figures["spearman_phq9"] > 0
    youden = snapshot.figures["youden"]
    assert youden["low"] <= youden["estimate"] <= youden["high"]


def test_no_signal_gives_an_interval_around_one_half(app):
    simulated_cohort.seed(200, DEFAULT_PLUGIN, separation=0.0, seed_value=5)
    [snapshot] = evidence.refresh()
    auc = snapshot.figures["auc"]
    assert auc["low"] <= 0.5 <= auc["high"]


def test_a_group_under_the_minimum_keeps_only_its_counts(app):
    app.config["EVIDENCE_MIN_N"] = 30
    simulated_cohort.seed(40, DEFAULT_PLUGIN, separation=1.0, seed_value=1)
    [snapshot] = evidence.refresh()
    assert min(snapshot.n_positive, snapshot.n_negative) < 30
    assert snapshot.figures is None and not snapshot.validated
    assert snapshot.min_n == 30


def test_patients_without_research_consent_are_not_studied(app, patient):
    simulated_cohort.seed(10, DEFAULT_PLUGIN, seed_value=2)
    sim = db.session.scalars(select(User).where(User.email.like(f"%@{SIMULATED_DOMAIN}"))).first()
    screening = db.session.scalars(select(Screening).where(Screening.patient_id == sim.id)).one()
    screening.patient_id = patient.id  # same screening, but its patient never consented to research
    db.session.commit()
    [snapshot] = evidence.refresh()
    assert snapshot.n_positive + snapshot.n_negative == 9


def test_withdrawal_removes_the_patient_at_the_next_refresh(app):
    app.config["EVIDENCE_MIN_N"] = 1
    simulated_cohort.seed(60, DEFAULT_PLUGIN, separation=1.0, seed_value=4)
    evidence.refresh()
    db.session.commit()
    patient = db.session.scalars(select(User).where(User.email.like(f"%@{SIMULATED_DOMAIN}"))
                                 .order_by(User.id)).first()
    assert research_consent.withdraw(patient)
    # Until the next refresh the stored aggregates are the old ones ...
    assert sum(s.n_positive + s.n_negative for s in evidence.current_snapshots()) == 60
    evidence.refresh()
    db.session.commit()
    # ... after it, no stored row was computed with the withdrawn patient.
    rows = db.session.scalars(select(EvidenceSnapshot)).all()
    assert [r.n_positive + r.n_negative for r in rows] == [59]


def test_research_consent_is_audited_without_clinical_values(app, patient):
    research_consent.grant(patient)
    assert research_consent.has_research_consent(patient)
    assert research_consent.withdraw(patient)
    assert not research_consent.has_research_consent(patient)
    assert not research_consent.withdraw(patient)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("consent.%"))).all()
    assert [e.action for e in events] == ["consent.grant", "consent.withdraw"]
    for event in events:
        assert event.details["kind"] == "research"
        assert not {"phq9", "phq9_total", "indicator", "score"} & set(event.details)


def test_the_cli_refresh_prints_aggregates_only(app):
    simulated_cohort.seed(100, DEFAULT_PLUGIN, separation=1.5, seed_value=6)
    result = app.test_cli_runner().invoke(args=["evidence", "refresh"])
    assert result.exit_code == 0, result.output
    assert f"{DEFAULT_PLUGIN} simulated" in result.output and "AUC" in result.output
    assert "Simulated patient" not in result.output and "@" not in result.output


def _conclude(screening, doctor, *outcomes_after_days):
    consultation = Consultation(patient_id=screening.patient_id, doctor_id=doctor.id,
                                status=ConsultationStatus.ACCEPTED)
    db.session.add(consultation)
    db.session.flush()
    for version, (outcome, days) in enumerate(outcomes_after_days, 1):
        db.session.add(Diagnosis(consultation_id=consultation.id, version=version, author_id=doctor.id,
                                 outcome=outcome, created_at=screening.created_at + timedelta(days=days)))


def test_doctors_conclusions_are_a_second_reference(app, doctor):
    simulated_cohort.seed(100, DEFAULT_PLUGIN, separation=2.0, seed_value=12)
    for screening in db.session.scalars(select(Screening)):
        # The first conclusion is revised within the window: only the latest one counts.
        final = DiagnosisOutcome.CONFIRMED if screening.phq9_total >= 10 else DiagnosisOutcome.REJECTED
        _conclude(screening, doctor, (DiagnosisOutcome.REJECTED, 1), (final, 3))
    db.session.commit()
    by_reference = {s.reference: s for s in evidence.refresh()}
    assert set(by_reference) == {"phq9", "diagnosis"}
    phq9, diagnosis = by_reference["phq9"], by_reference["diagnosis"]
    assert (diagnosis.n_positive, diagnosis.n_negative) == (phq9.n_positive, phq9.n_negative)
    assert diagnosis.figures["auc"] == phq9.figures["auc"]  # the doctors agreed with PHQ-9 here
    assert diagnosis.figures["spearman_phq9"] is None


def test_a_screening_is_labelled_by_the_conclusion_it_led_to(app, doctor):
    app.config["EVIDENCE_DIAGNOSIS_WINDOW_DAYS"] = 30
    simulated_cohort.seed(3, DEFAULT_PLUGIN, separation=1.0, seed_value=5)
    first, second, third = db.session.scalars(select(Screening).order_by(Screening.id))
    _conclude(first, doctor, (DiagnosisOutcome.CONFIRMED, 2))
    # Confirmed within the window, then rejected months later in treatment: the screening
    # led to a confirmation.
    _conclude(second, doctor, (DiagnosisOutcome.CONFIRMED, 10), (DiagnosisOutcome.REJECTED, 200))
    _conclude(third, doctor, (DiagnosisOutcome.REJECTED, 45))  # no conclusion in its window
    db.session.commit()
    assert evidence.doctors_conclusions([first, second, third]) == {first.id: True, second.id: True}


def test_demo_seed_creates_a_labelled_simulated_cohort(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cohort", "12"])
    assert result.exit_code == 0, result.output
    assert "12 simulated patients" in result.output and "true AUC 0.760" in result.output
    simulated = db.session.scalars(select(User).where(User.email.like(f"%@{SIMULATED_DOMAIN}"))).all()
    assert len(simulated) == 12
    assert all(u.patient_profile.full_name.startswith("Simulated patient") for u in simulated)
    ids = [u.id for u in simulated]
    for screening in db.session.scalars(select(Screening).where(Screening.patient_id.in_(ids))):
        assert screening.facial_result["simulated"] is True
        assert screening.plugin_version == simulated_cohort.SIMULATED_VERSION
        assert screening.phq9_item9 == 0 and not screening.urgent
