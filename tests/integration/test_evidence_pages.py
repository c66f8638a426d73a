"""The study on real pages: the model card's empty and validated states, and research consent."""

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.plugins.registry import DEFAULT_PLUGIN
from app.services import evidence, research_consent, simulated_cohort
from tests.conftest import csrf_token, login

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
