"""The study on real pages: the model card's empty and validated states, and research consent."""

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.models.care import Consultation
from app.models.evidence import IndicatorThreshold
from app.models.screening import Screening
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import evidence, research_consent, simulated_cohort
from tests import factories
from tests.helpers import client_for, csrf_token, login, post

CARD = f"/screenings/model-card/{DEFAULT_PLUGIN}"


def _card(client, user) -> str:
    login(client, user)
    response = client.get(CARD)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_model_card_before_any_refresh_says_not_validated(client, doctor):
    page = _card(client, doctor)
    assert "How it does at this clinic" in page
    assert "Not validated here yet" in page


def test_model_card_of_a_small_group_counts_towards_the_minimum(client, doctor):
    simulated_cohort.seed(20, DEFAULT_PLUGIN, seed_value=1)
    snapshot = evidence.refresh()[0]
    db.session.commit()
    page = _card(client, doctor)
    assert (f"Not validated here yet: {snapshot.n_positive} of 30 screenings with PHQ-9 ≥ 10 "
            f"and {snapshot.n_negative} of 30 with PHQ-9 &lt; 10") in " ".join(page.split())
    assert "ROC AUC" not in page
    assert "Simulated data" in page


def test_model_card_of_a_validated_group_shows_figures_and_charts_to_an_admin(client, admin):
    simulated_cohort.seed(150, DEFAULT_PLUGIN, separation=1.5, seed_value=2)
    [snapshot] = evidence.refresh()
    db.session.commit()
    page = _card(client, admin)
    assert "ROC AUC" in page and f"{snapshot.figures['auc']['estimate']:.2f}" in page
    assert "ROC curve" in page and "Calibration by decile" in page
    for axis in ("false-positive rate", ">Sensitivity<", "mean indicator ÷ 100", ">Observed rate<"):
        assert axis in page
    assert f"n = {snapshot.n_positive + snapshot.n_negative}" in page
    assert "Simulated data" in page
    # Aggregates only: no simulated patient is named, and no single indicator value is listed.
    assert "Simulated patient" not in page and "@" not in page.split("How it does at this clinic")[1]


def test_patients_do_not_get_the_clinic_figures_on_the_model_card(client, patient):
    simulated_cohort.seed(150, DEFAULT_PLUGIN, separation=1.5, seed_value=2)
    evidence.refresh()
    db.session.commit()
    assert "How it does at this clinic" not in _card(client, patient)


def test_patient_grants_and_withdraws_research_consent_on_the_privacy_page(client, patient):
    login(client, patient)
    page = client.get("/account").get_data(as_text=True)
    assert 'id="research-grant"' in page
    response = client.post("/account/research-consent", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    assert research_consent.has_research_consent(patient)
    page = client.get("/account").get_data(as_text=True)
    assert 'id="research-withdraw"' in page and "You agreed to research use" in page
    response = client.post("/account/research-consent/withdraw",
                           data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    assert not research_consent.has_research_consent(patient)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("consent.%"))).all()
    assert actions == ["consent.grant", "consent.withdraw"]


def test_research_consent_post_without_csrf_is_refused(client, patient):
    login(client, patient)
    response = client.post("/account/research-consent", data={})
    assert response.status_code == 400
    assert not research_consent.has_research_consent(patient)


def _validate_group_of(screening, cohort_size: int = 120) -> None:
    """A validated study group for `screening`'s own plugin and indicator versions: the simulated
    cohort, moved into that group (the cohort keeps a version of its own everywhere else)."""
    simulated_cohort.seed(cohort_size, screening.plugin_name, separation=1.5, seed_value=9)
    simulated = Screening.plugin_version == simulated_cohort.SIMULATED_VERSION
    db.session.execute(update(Screening).where(simulated).values(
        plugin_version=screening.plugin_version, facial_result=screening.facial_result))
    db.session.commit()
    evidence.refresh()
    db.session.commit()


def test_result_pages_say_what_the_indicator_is_worth_here(app, patient, doctor):
    research_consent.grant(patient)
    screening = factories.screening(patient, total=12, affect=72.0)
    patient_client = client_for(app, patient)
    page = " ".join(patient_client.get(f"/screenings/{screening.id}").get_data(as_text=True).split())
    assert "This indicator has not been validated at this clinic yet." in page

    _validate_group_of(screening)
    snapshot = evidence.worth_here(screening)
    assert snapshot.validated and snapshot.n_positive + snapshot.n_negative == 121
    found = f"{100 * snapshot.figures['at_threshold']['sensitivity']:.0f} %"
    page = " ".join(patient_client.get(f"/screenings/{screening.id}").get_data(as_text=True).split())
    assert f"Here, an indicator ≥ 70 found {found} of screenings with PHQ-9 ≥ 10; n = 121" in page

    # The doctor's view of the shared screening says the same.
    doctor_client = client_for(app, doctor)
    response = post(patient_client, "/consultations/new",
                    {"doctor": str(doctor.id), "screenings": [str(screening.id)], "message": "Hello"})
    assert response.status_code == 302
    url = f"/consultations/{db.session.scalars(select(Consultation)).one().id}"
    assert post(doctor_client, f"{url}/accept").status_code == 302
    page = " ".join(doctor_client.get(f"{url}/screenings/{screening.id}").get_data(as_text=True).split())
    assert f"Here, an indicator ≥ 70 found {found} of screenings with PHQ-9 ≥ 10; n = 121" in page


def test_admin_adopts_the_recommended_threshold_and_earlier_results_keep_theirs(app, admin, patient):
    earlier = factories.screening(patient, total=3, affect=66.0)
    earlier.finished_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    patient_client = client_for(app, patient)
    reason = "the facial-affect indicator is high"
    assert reason not in patient_client.get(f"/screenings/{earlier.id}").get_data(as_text=True)

    simulated_cohort.seed(150, DEFAULT_PLUGIN, separation=1.5, seed_value=2)
    [snapshot] = evidence.refresh()
    db.session.commit()
    recommended = round(snapshot.figures["youden"]["estimate"], 1)
    admin_client = client_for(app, admin)
    response = post(admin_client, "/admin/evidence/threshold", {"snapshot": str(snapshot.id)}, page=CARD)
    assert response.status_code == 302
    [adopted] = db.session.scalars(select(IndicatorThreshold)).all()
    assert (adopted.version, adopted.value, adopted.adopted_by_id) == (1, recommended, admin.id)
    adoption = AuditEvent.action == "evidence.threshold_adopt"
    event = db.session.scalars(select(AuditEvent).where(adoption)).one()
    assert event.details == {"version": 1, "value": recommended}

    # A result shown before keeps the threshold it was shown with; a new one uses the adopted one.
    assert evidence.threshold_at(earlier.finished_at) == 70
    assert reason not in patient_client.get(f"/screenings/{earlier.id}").get_data(as_text=True)
    later = factories.screening(patient, total=3, affect=recommended)
    later.finished_at = utcnow()
    db.session.commit()
    assert reason in patient_client.get(f"/screenings/{later.id}").get_data(as_text=True)


def test_adopting_from_a_group_that_is_not_validated_is_refused(app, admin):
    simulated_cohort.seed(10, DEFAULT_PLUGIN, seed_value=2)
    [snapshot] = evidence.refresh()
    db.session.commit()
    admin_client = client_for(app, admin)
    response = post(admin_client, "/admin/evidence/threshold", {"snapshot": str(snapshot.id)}, page=CARD)
    assert response.status_code == 400
    response = post(admin_client, "/admin/evidence/threshold", {"snapshot": "99999999999"}, page=CARD)
    assert response.status_code == 400
    response = post(admin_client, "/admin/evidence/threshold", {"snapshot": str(snapshot.id + 1)}, page=CARD)
    assert response.status_code == 404
    assert db.session.scalars(select(IndicatorThreshold)).all() == []
