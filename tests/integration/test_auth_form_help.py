"""Log-in and registration help people before they fail: autocomplete purposes on every field
(password managers, WCAG 1.3.5), the password rule shown up front, and a malformed e-mail
named as such instead of "e-mail and password do not match"."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.helpers import csrf_token


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") not in ("hidden", "radio", "checkbox", "submit"):
            self.fields[attributes["name"]] = attributes


def _inputs(html: str) -> dict[str, dict]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def test_every_login_and_registration_field_says_what_it_is_for(client):
    expected = {
        "/auth/login": {"email": "username", "password": "current-password"},
        "/auth/register": {"email": "email", "full_name": "name", "date_of_birth": "bday",
                           "password": "new-password", "confirm": "new-password"},
        "/auth/register/doctor": {"email": "email", "full_name": "name",
                                  "password": "new-password", "confirm": "new-password"},
        "/auth/forgot": {"email": "email"},
    }
    for url, purposes in expected.items():
        fields = _inputs(client.get(url).get_data(as_text=True))
        for name, purpose in purposes.items():
            assert fields[name].get("autocomplete") == purpose, (url, name, fields[name])


def test_the_password_rule_is_shown_before_the_first_failure(app, client):
    minimum = app.config["PASSWORD_MIN_LENGTH"]
    for url in ("/auth/register", "/auth/register/doctor"):
        html = client.get(url).get_data(as_text=True)
        assert f'<p class="field-hint muted" id="password-hint">At least {minimum} characters.' in html
        assert _inputs(html)["password"]["aria-describedby"] == "password-hint"


def test_a_malformed_email_at_login_gets_its_own_message(client):
    for typed in ("rivera.example.org", "a@b@c", "name @example.org"):
        response = client.post("/auth/login", data={
            "csrf_token": csrf_token(client), "email": typed, "password": "whatever-it-is"})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, typed
        assert "Enter a valid e-mail address. It looks like name@example.org." in html
        assert "do not match an active account" not in html
        assert _inputs(html)["email"]["aria-describedby"] == "email-errors"


def test_a_well_formed_unknown_email_still_gets_the_neutral_answer(client):
    response = client.post("/auth/login", data={
        "csrf_token": csrf_token(client), "email": "nobody@example.org", "password": "whatever-it-is"})
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
