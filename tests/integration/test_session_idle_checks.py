"""A page's background requests (live streams, htmx polls, the idle warning's checks) are checks,
not activity: refused once the session is over, but never restarting its idle clock, so a page
left open still times out; and a running stream ends when its session goes idle."""

from __future__ import annotations

import threading
import time

import pytest

from app.extensions import db
from app.jobs.queue import get_redis
from app.services import consultations
from tests import factories
from tests.helpers import HTMX, client_for

BACKGROUND = {"X-Background-Check": "1"}


def _record(client) -> dict[str, float]:
    with client.session_transaction() as session:
        sid = session["sid"]
    raw = get_redis().hgetall(f"session:{sid}")
    return {k.decode(): float(v) for k, v in raw.items() if k in (b"seen_at", b"login_at")}


def _idle_for(client, seconds: float) -> float:
    """Move the session's last activity `seconds` back; returns the new `seen_at`."""
    with client.session_transaction() as session:
        sid = session["sid"]
    seen_at = time.time() - seconds
    get_redis().hset(f"session:{sid}", "seen_at", seen_at)
    return seen_at


@pytest.fixture
def chat(app):
    patient, doctor = factories.patient(), factories.doctor()
    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    consultations.accept(doctor, consultation)
    db.session.commit()
    return patient, doctor, consultation


def test_a_poll_does_not_restart_the_idle_clock_but_a_click_does(app, chat):
    _, doctor, consultation = chat
    client = client_for(app, doctor)
    seen_at = _idle_for(client, 10 * 60)
    poll = client.get(f"/consultations/{consultation.id}/messages", headers={**HTMX, **BACKGROUND})
    assert poll.status_code == 200
    assert _record(client)["seen_at"] == seen_at
    clock = client.get("/auth/session", headers=BACKGROUND)
    assert clock.status_code == 200 and clock.headers["Cache-Control"] == "no-store"
    assert 4 * 60 <= clock.json["idle_seconds_left"] <= 5 * 60  # 15 min for a clinician, 10 gone
    assert _record(client)["seen_at"] == seen_at

    assert client.get(f"/consultations/{consultation.id}").status_code == 200  # a person acts
    assert _record(client)["seen_at"] > time.time() - 5
    stay = client.get("/auth/session")  # "Stay signed in" is activity too
    assert stay.json["idle_seconds_left"] >= 15 * 60 - 5


def test_a_stream_request_does_not_restart_the_idle_clock(app, chat):
    patient, _, consultation = chat
    app.config.update(LIVE_STREAM_SECONDS=0.2, LIVE_HEARTBEAT_SECONDS=0.1)
    client = client_for(app, patient)
    seen_at = _idle_for(client, 60)
    response = client.get(f"/consultations/{consultation.id}/stream")
    assert response.status_code == 200
    assert b"event: end" in b"".join(response.response)
    assert _record(client)["seen_at"] == seen_at


def test_a_background_request_is_refused_once_idle_and_the_next_page_says_why(app, chat):
    _, doctor, consultation = chat
    client = client_for(app, doctor)
    _idle_for(client, 16 * 60)
    # A stream or a script cannot show the log-in page: a bare refusal, the session left to the page.
    assert client.get(f"/consultations/{consultation.id}/stream").status_code == 401
    assert client.get("/auth/session", headers=BACKGROUND).status_code == 401
    # An htmx poll takes the page to the log-in form, which says why.
    poll = client.get(f"/consultations/{consultation.id}/messages", headers={**HTMX, **BACKGROUND})
    assert poll.status_code == 204 and poll.headers["HX-Redirect"].endswith("/auth/login")
    assert b"signed out after a period of inactivity" in client.get("/auth/login").data
    assert client.get("/doctor").headers["Location"].startswith("/auth/login")


def test_the_idle_warning_s_check_leads_to_the_log_in_page_s_explanation(app, patient):
    client = client_for(app, patient)
    _idle_for(client, 31 * 60)
    assert client.get("/auth/session", headers=BACKGROUND).status_code == 401
    # idle.js then opens the log-in page: the session ends there, with the reason shown.
    response = client.get("/auth/login", follow_redirects=True)
    assert b"signed out after a period of inactivity" in response.data


def test_pages_of_a_signed_in_session_carry_the_idle_warning(app, doctor):
    client = client_for(app, doctor)
    page = client.get("/doctor").get_data(as_text=True)
    assert 'id="idle-warning"' in page and 'data-idle-seconds="900"' in page and "Stay signed in" in page
    assert 'id="idle-warning"' not in app.test_client().get("/auth/login").get_data(as_text=True)


def test_a_stream_ends_when_its_session_goes_idle(app, chat):
    _, doctor, consultation = chat
    app.config.update(LIVE_STREAM_SECONDS=60, LIVE_HEARTBEAT_SECONDS=0.2, LIVE_ACCESS_CHECK_SECONDS=0.5)
    client = client_for(app, doctor)
    db.session.commit()
    response = client.get(f"/consultations/{consultation.id}/stream")
    assert response.status_code == 200
    events, ended = [], threading.Event()

    def read():  # in its own thread, as a server runs it
        for event in response.response:
            events.append(event)
        ended.set()

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(1)
    assert not ended.is_set(), "the stream ended while its session was open"
    _idle_for(client, 15 * 60 + 1)
    assert ended.wait(3), "the stream outlived its session's idle limit"
    reader.join(5)
    assert events[-1] == b"event: end\ndata: revoked\n\n"
