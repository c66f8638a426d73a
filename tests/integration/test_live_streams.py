"""The live streams (chat, screening progress): a nudge per event through real Redis pub/sub,
authorised like the page they feed, bounded in time, holding no database connection while waiting."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from app.extensions import db
from app.jobs.queue import get_redis
from app.services import admin_doctors, admin_users, chat, consultations, live
from tests import factories
from tests.helpers import client_for, csrf_token


@pytest.fixture
def opened(app):
    patient, doctor = factories.patient(), factories.doctor()
    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    consultations.accept(doctor, consultation)
    return patient, doctor, consultation


def _subscribers(channel: str) -> int:
    return dict(get_redis().pubsub_numsub(channel))[channel.encode()]


def _wait_for_subscriber(channel: str) -> None:
    deadline = time.monotonic() + 5
    while _subscribers(channel) == 0:
        assert time.monotonic() < deadline, "the stream never subscribed"
        time.sleep(0.02)


def test_a_message_reaches_the_other_side_as_a_nudge(app, opened):
    patient, doctor, consultation = opened
    app.config.update(LIVE_STREAM_SECONDS=5, LIVE_HEARTBEAT_SECONDS=1)
    client = client_for(app, doctor)
    url, channel = f"/consultations/{consultation.id}/stream", live.chat_channel(consultation.id)
    db.session.commit()  # the test's own session gives its connection back too
    seen, subscribed = {}, threading.Event()

    def read_stream():  # in its own thread, without the test's app context, as a server runs it
        response = client.get(url)
        seen["response"] = response
        events = iter(response.response)
        seen["first"] = next(events)
        subscribed.set()
        seen["event"] = next(events)
        seen["at"] = time.monotonic()
        response.close()

    reader = threading.Thread(target=read_stream)
    reader.start()
    assert subscribed.wait(10), "the stream never opened"
    response = seen["response"]
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert b"connected" in seen["first"] and _subscribers(channel) == 1
    # While it waits, the stream holds no database connection.
    assert db.engine.pool.checkedout() == 0

    message = chat.post_message(patient, consultation, "Are you there?")
    sent_at = time.monotonic()
    reader.join(5)
    assert seen["event"] == f"event: chat\ndata: {message.id}\n\n".encode()
    assert seen["at"] - sent_at < 1.0
    # The nudge says only "something new": the words come from the access-checked endpoint.
    assert b"Are you there?" not in seen["event"]
    assert _subscribers(channel) == 0  # closing the stream ends its subscription


def test_the_stream_beats_and_ends_after_its_lifetime(app, opened):
    patient, _, consultation = opened
    app.config.update(LIVE_STREAM_SECONDS=2, LIVE_HEARTBEAT_SECONDS=0.5)
    response = client_for(app, patient).get(f"/consultations/{consultation.id}/stream")
    started = time.monotonic()
    events = list(response.response)
    elapsed = time.monotonic() - started
    assert 1.8 < elapsed < 4
    assert events[-1] == b"event: end\ndata: lifetime\n\n"
    assert events.count(b": heartbeat\n\n") >= 2
    assert _subscribers(live.chat_channel(consultation.id)) == 0


def test_a_reader_gone_away_closes_the_subscription(app, opened):
    patient, _, consultation = opened
    app.config.update(LIVE_STREAM_SECONDS=30, LIVE_HEARTBEAT_SECONDS=0.2)
    response = client_for(app, patient).get(f"/consultations/{consultation.id}/stream")
    events = iter(response.response)
    next(events)
    channel = live.chat_channel(consultation.id)
    _wait_for_subscriber(channel)
    # The server closes the response iterator when writing to a gone client fails.
    events.close()
    assert _subscribers(channel) == 0


def test_strangers_revoked_doctors_and_closed_consultations_get_nothing(app, opened):
    patient, doctor, consultation = opened
    url = f"/consultations/{consultation.id}/stream"
    assert client_for(app, factories.patient()).get(url).status_code == 404
    assert client_for(app, factories.doctor()).get(url).status_code == 404
    assert client_for(app, factories.admin()).get(url).status_code == 403

    doctor_client = client_for(app, doctor)
    admin_doctors.revoke(doctor.id, factories.admin(), "Licence withdrawn")
    assert doctor_client.get(url).status_code == 404

    consultations.close(patient, consultation)
    closed = client_for(app, patient).get(url)
    assert closed.status_code == 204  # EventSource does not reconnect after a 204
    assert _subscribers(live.chat_channel(consultation.id)) == 0


def test_redis_down_does_not_lose_the_message(app, opened, monkeypatch):
    patient, _, consultation = opened
    # A real client pointed at a port where no Redis listens.
    unreachable = redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "moodlens_redis", unreachable)
    message = chat.post_message(patient, consultation, "Still saved")
    assert message.id is not None


def test_the_worker_s_progress_reaches_the_result_page_as_a_nudge(app, patient):
    from app.jobs.analysis import _Progress
    from app.models.screening import ScreeningStatus

    screening = factories.screening(patient, total=5, status=ScreeningStatus.RUNNING)
    app.config.update(LIVE_STREAM_SECONDS=5, LIVE_HEARTBEAT_SECONDS=1)
    owner = client_for(app, patient)
    url, channel = f"/screenings/{screening.id}/stream", live.screening_channel(screening.id)
    assert client_for(app, factories.patient()).get(url).status_code == 404
    assert client_for(app, factories.doctor()).get(url).status_code == 404

    response = owner.get(url)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = iter(response.response)
    assert b"connected" in next(events)
    _wait_for_subscriber(channel)
    _Progress(screening.id, str)(0.5, "Finding the face", force=True)  # what the worker runs
    assert next(events) == b"event: progress\ndata: new\n\n"
    response.close()
    assert _subscribers(channel) == 0

    screening.status = ScreeningStatus.DONE
    db.session.commit()
    assert owner.get(url).status_code == 204  # finished: nothing more to stream


# --- A reader who loses access -------------------------------------------------------------

class _StreamReader:
    """Reads a stream in its own thread (as a server would, without the test's app context) and
    notes when it ended and how."""

    def __init__(self, client, url: str):
        self.events: list[bytes] = []
        self.opened, self.ended, self.leaving = threading.Event(), threading.Event(), threading.Event()
        self.response = client.get(url)
        assert self.response.status_code == 200, self.response.status_code
        self.thread = threading.Thread(target=self._read)
        self.thread.start()
        assert self.opened.wait(10), "the stream never opened"

    def _read(self):
        for event in self.response.response:
            self.events.append(event)
            self.opened.set()
            if self.leaving.is_set():  # the reader goes away at the next heartbeat
                self.response.close()
                break
        self.ended_at = time.monotonic()
        self.ended.set()

    def leave(self):
        self.leaving.set()
        self.thread.join(5)

    def ends_within(self, seconds: float) -> float:
        started = time.monotonic()
        assert self.ended.wait(seconds), f"the stream still ran {seconds}s after access was taken away"
        self.thread.join(5)
        return self.ended_at - started


def _shared(app):
    """A patient, and a doctor treating them who can see one of their screenings mid-analysis."""
    from app.models.screening import ScreeningStatus

    patient, doctor = factories.patient(), factories.doctor()
    screening = factories.screening(patient, total=9, status=ScreeningStatus.RUNNING)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    return patient, doctor, consultation, screening


@pytest.fixture
def slow_recheck(app):
    """Access is re-checked only every 30 s: a stream that ends sooner was ended by the nudge."""
    app.config.update(LIVE_STREAM_SECONDS=60, LIVE_HEARTBEAT_SECONDS=0.5, LIVE_ACCESS_CHECK_SECONDS=30)


def test_closing_the_consultation_ends_both_chat_streams_at_once(app, opened, slow_recheck):
    patient, doctor, consultation = opened
    url, channel = f"/consultations/{consultation.id}/stream", live.chat_channel(consultation.id)
    db.session.commit()
    readers = [_StreamReader(client_for(app, person), url) for person in (doctor, patient)]
    consultations.close(patient, consultation)
    for reader in readers:
        assert reader.ends_within(3) < 2
        assert reader.events[-1] == b"event: end\ndata: revoked\n\n"
    assert _subscribers(channel) == 0 and _subscribers(live.access_channel(doctor.id)) == 0


def test_stopping_sharing_ends_the_doctor_s_progress_stream_not_the_patient_s(app, slow_recheck):
    patient, doctor, consultation, screening = _shared(app)
    url = f"/screenings/{screening.id}/stream"
    db.session.commit()
    doctor_stream = _StreamReader(client_for(app, doctor), url)
    patient_stream = _StreamReader(client_for(app, patient), url)
    share = consultation.shares[0]
    consultations.revoke_share(patient, consultation, share.id)
    assert doctor_stream.ends_within(3) < 2
    assert doctor_stream.events[-1] == b"event: end\ndata: revoked\n\n"
    assert not patient_stream.ended.wait(1), "the patient's own stream ended too"
    patient_stream.leave()
    assert client_for(app, doctor).get(url).status_code == 404  # the reconnect is refused


def test_deactivating_the_account_ends_its_streams(app, opened, slow_recheck):
    patient, _, consultation = opened
    reader = _StreamReader(client_for(app, patient), f"/consultations/{consultation.id}/stream")
    admin_users.deactivate(patient.id, factories.admin())
    assert reader.ends_within(3) < 2
    assert reader.events[-1] == b"event: end\ndata: revoked\n\n"


def test_logging_out_ends_that_session_s_streams_only(app, opened, slow_recheck):
    patient, _, consultation = opened
    url = f"/consultations/{consultation.id}/stream"
    leaving, staying = client_for(app, patient), client_for(app, patient)  # two browsers
    db.session.commit()
    leaving_stream, staying_stream = _StreamReader(leaving, url), _StreamReader(staying, url)
    response = leaving.post("/auth/logout", data={"csrf_token": csrf_token(leaving, "/consultations")})
    assert response.status_code == 302
    assert leaving_stream.ends_within(3) < 2
    assert leaving_stream.events[-1] == b"event: end\ndata: revoked\n\n"
    assert not staying_stream.ended.wait(1), "the other browser's stream ended too"
    staying_stream.leave()


def test_a_missed_nudge_is_caught_by_the_periodic_check(app, slow_recheck):
    """Access taken away without a nudge (here: straight in the database) still ends the
    stream within one check interval."""
    from app.models._time import utcnow

    app.config.update(LIVE_ACCESS_CHECK_SECONDS=1)
    _, doctor, consultation, screening = _shared(app)
    db.session.commit()
    reader = _StreamReader(client_for(app, doctor), f"/screenings/{screening.id}/stream")
    consultation.shares[0].revoked_at = utcnow()
    db.session.commit()
    assert reader.ends_within(4) < 2.5
    assert reader.events[-1] == b"event: end\ndata: revoked\n\n"
