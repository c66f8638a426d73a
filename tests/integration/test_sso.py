"""Clinicians' single sign-on against a real OpenID provider (npm `oidc-provider`, started here),
driven over HTTP: code flow with PKCE, state and nonce; ID tokens validated against the JWKS;
accounts created or linked by verified e-mail; roles following the claim; the provider's MFA
counted; RP-initiated logout; and a provider that does not answer."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import redis as redis_lib
from sqlalchemy import func, select

from app.blueprints.sso import client as sso_client
from app.extensions import db
from app.models.sso import SsoLink
from app.models.user import Role, User, VerificationStatus
from tests import factories
from tests.helpers import csrf_token, login
from tests.oidc.provider import SECRET, obtain_tokens, running_provider, sign_in_at_provider

CALLBACK = "http://localhost/sso/callback"
DANA = {"email": "dana@hospital.example", "name": "Dana Doctor", "roles": ["doctor"], "amr": ["pwd", "otp"]}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


@pytest.fixture
def sso_app(app_factory, provider, redis_url):
    provider.set_accounts({"dana": DANA})
    app = app_factory(OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="moodlens", OIDC_CLIENT_SECRET=SECRET,
                      OIDC_PROVIDER_NAME="Test Hospital", OIDC_CLOCK_SKEW_SECONDS=0)
    redis_lib.Redis.from_url(redis_url).flushdb()
    with app.app_context():
        yield app


def sso_callback_url(client, login: str) -> str:
    start = client.get("/sso/login")
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    query = parse_qs(urlparse(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    return sign_in_at_provider(start.headers["Location"], login, CALLBACK)


def sso_login(client, login: str = "dana"):
    return client.get(sso_callback_url(client, login).removeprefix("http://localhost"))


def test_login_page_offers_the_hospital_and_a_doctor_signs_in(sso_app):
    client = sso_app.test_client()
    assert "Sign in with Test Hospital" in client.get("/auth/login").get_data(as_text=True)
    response = sso_login(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    user = db.session.scalar(select(User).where(User.email == DANA["email"]))
    assert user.role is Role.DOCTOR and user.doctor_profile.full_name == "Dana Doctor"
    # The provider did MFA (amr otp): no second MoodLens factor; but pending verification.
    assert user.doctor_profile.verification_status is VerificationStatus.PENDING
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200 and "/doctor" in home.request.path
    assert client.get("/consultations").status_code == 200


def test_first_login_links_an_existing_clinician_and_later_logins_follow_the_subject(sso_app, provider):
    existing = factories.doctor(email=DANA["email"])
    sso_login(sso_app.test_client())
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    link = db.session.scalar(select(SsoLink))
    assert (link.user_id, link.subject) == (existing.id, "dana")
    # The hospital renames the address: the subject still finds the account.
    provider.set_accounts({"dana": {**DANA, "email": "d.doctor@hospital.example"}})
    sso_login(sso_app.test_client())
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_patient_accounts_and_unverified_addresses_are_refused(sso_app, provider):
    factories.patient(email=DANA["email"])
    response = sso_login(sso_app.test_client())
    assert response.status_code == 409 and "patient account" in response.get_data(as_text=True)
    provider.set_accounts({"eve": {**DANA, "email": "eve@hospital.example", "email_verified": False}})
    response = sso_login(sso_app.test_client(), "eve")
    assert response.status_code == 403 and "verified e-mail" in response.get_data(as_text=True)


def test_roles_follow_the_claim_at_every_login(sso_app, provider):
    sso_login(sso_app.test_client())
    provider.set_accounts({"dana": {**DANA, "roles": ["admin"]}})
    client = sso_app.test_client()
    sso_login(client)
    user = db.session.scalar(select(User).where(User.email == DANA["email"]))
    db.session.refresh(user)
    assert user.role is Role.ADMIN
    assert client.get("/admin/").status_code == 200
    provider.set_accounts({"dana": {**DANA, "roles": ["nurse"]}})
    refused = sso_login(sso_app.test_client())
    assert refused.status_code == 403 and "no MoodLens role" in refused.get_data(as_text=True)
    provider.set_accounts({"dana": {**DANA, "roles": ["doctor", "admin"]}})
    assert sso_login(sso_app.test_client()).status_code == 403


def test_without_mfa_at_the_provider_moodlens_asks_for_its_own_second_factor(sso_app, provider):
    provider.set_accounts({"dana": {**DANA, "amr": ["pwd"]}})
    client = sso_app.test_client()
    sso_login(client)
    assert client.get("/consultations").headers["Location"].endswith("/auth/mfa/setup")


def test_a_replayed_state_is_refused(sso_app):
    client = sso_app.test_client()
    callback = sso_callback_url(client, "dana").removeprefix("http://localhost")
    cookie_before = client.get_cookie("session").value
    assert client.get(callback).status_code == 302
    # The same callback again, even with the session cookie from before the first use.
    replay = sso_app.test_client()
    replay.set_cookie("session", cookie_before, domain="localhost")
    response = replay.get(callback)
    assert response.status_code == 400 and "used twice" in response.get_data(as_text=True)
    assert sso_app.test_client().get(callback).status_code == 400


def _tamper(id_token: str, **claims) -> str:
    header, payload, signature = id_token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, **claims}).encode()).rstrip(b"=").decode()
    return ".".join([header, forged, signature])


def test_id_token_validation_rejects_tampering_wrong_audience_and_expiry(sso_app, provider):
    tokens = obtain_tokens(provider, "moodlens", "dana")
    with sso_app.test_request_context():
        claims = sso_client.validate_id_token(tokens["id_token"], tokens["nonce"], tokens["access_token"])
        assert claims["sub"] == "dana" and claims["roles"] == ["doctor"]
        with pytest.raises(sso_client.FLOW_ERRORS):
            sso_client.validate_id_token(_tamper(tokens["id_token"], roles=["admin"]), tokens["nonce"])
        with pytest.raises(sso_client.FLOW_ERRORS):
            sso_client.validate_id_token(tokens["id_token"], "another-nonce")
        other = obtain_tokens(provider, "another-app", "dana")  # a real token, for another client
        with pytest.raises(sso_client.FLOW_ERRORS):
            sso_client.validate_id_token(other["id_token"], other["nonce"])


def test_an_expired_id_token_is_rejected(app_factory, provider):
    provider.set_accounts({"dana": DANA})
    settings = {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": "short-lived", "OIDC_CLIENT_SECRET": SECRET}
    tokens = obtain_tokens(provider, "short-lived", "dana")  # this client's ID tokens live 1 s
    # The token is otherwise valid (a minute of allowed clock skew absorbs a slow test machine)...
    with app_factory(**settings, OIDC_CLOCK_SKEW_SECONDS=60).test_request_context():
        sso_client.validate_id_token(tokens["id_token"], tokens["nonce"])
    time.sleep(2.1)
    # ...and refused once it has expired, when no skew is allowed.
    with app_factory(**settings, OIDC_CLOCK_SKEW_SECONDS=0).test_request_context():
        with pytest.raises(sso_client.FLOW_ERRORS, match="(?i)expired"):
            sso_client.validate_id_token(tokens["id_token"], tokens["nonce"])


def test_logout_ends_the_session_and_hands_over_to_the_provider(sso_app, provider):
    client = sso_app.test_client()
    sso_login(client)
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/consultations")})
    page = client.get(response.headers["Location"])
    target = page.get_data(as_text=True).split('id="sso-logout-continue" href="')[1].split('"')[0]
    target = target.replace("&amp;", "&")
    assert target.startswith(provider.issuer) and "id_token_hint=" in target
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Fauth%2Flogin" in target
    assert client.get("/consultations").headers["Location"].startswith("/auth/login")
    # The hand-over page goes only to the provider's end-session endpoint.
    assert client.get("/sso/signed-out?next=https://evil.example/").headers["Location"] == "/auth/login"


def test_an_unreachable_provider_leaves_password_login_working(app_factory, caplog):
    app = app_factory(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="moodlens",
                      OIDC_CLIENT_SECRET=SECRET, OIDC_PROVIDER_NAME="Test Hospital", OIDC_TIMEOUT_SECONDS=2)
    assert "cannot read the discovery document of http://127.0.0.1:9" in caplog.text
    with app.app_context():
        client = app.test_client()
        response = client.get("/sso/login")
        assert response.status_code == 503 and "not available right now" in response.get_data(as_text=True)
        doctor = factories.doctor()
        assert login(client, doctor).status_code == 302
