"""A screening form that comes back with an error keeps its photo on the server: encrypted in the
patient's own folder, usable once by that patient's resubmission, gone after an hour."""

from __future__ import annotations

import os
import re
import time

import pytest

from app.extensions import db
from app.jobs import held_uploads as held_upload_job
from app.jobs.periodic import lease_key
from app.jobs.queue import get_redis
from app.models.screening import Screening, ScreeningKind
from app.services import consent
from app.storage import held_uploads, media_store
from tests import factories, samples
from tests.helpers import CALM_ANSWERS, form_data, login, only_screening, submit

TOKEN_RE = re.compile(r'name="held_upload" value="([0-9a-f]{32})"')
MISSING_ITEM_4 = CALM_ANSWERS[:3] + [None] + CALM_ANSWERS[4:]


@pytest.fixture
def consented(client, patient):
    consent.grant(patient)
    login(client, patient)
    return patient


def _held_files(patient_id: int) -> list[str]:
    return media_store.find(f"screenings/{patient_id}/held/*")


def _kept_on_error(client, patient) -> str:
    response = submit(client, samples.astronaut_jpeg(), filename="my face.jpg",
                      answers=MISSING_ITEM_4)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "question 4 still needs an answer" in page
    assert "Your photo or clip <strong>my face.jpg</strong> is kept" in page
    return TOKEN_RE.search(page).group(1)


def _resubmit(client, token: str, media: bytes | None = None, answers=CALM_ANSWERS):
    data = {**form_data(client, media, filename="new.jpg", answers=answers), "held_upload": token}
    return client.post("/screenings/new", data=data, content_type="multipart/form-data")


def test_the_kept_photo_is_used_by_the_resubmission_then_deleted(client, consented):
    token = _kept_on_error(client, consented)
    (path,) = _held_files(consented.id)
    raw = (media_store.media_root() / path).read_bytes()
    assert samples.astronaut_jpeg()[:64] not in raw and b"my face.jpg" not in raw  # encrypted, name too
    again = _resubmit(client, token, answers=MISSING_ITEM_4)  # a second mistake keeps it still
    assert again.status_code == 422 and TOKEN_RE.search(again.get_data(as_text=True)).group(1) == token

    response = _resubmit(client, token)
    assert response.status_code == 303
    screening = only_screening()
    assert screening.kind is ScreeningKind.PHOTO and screening.media_path
    assert media_store.load(screening.media_path)[:3] == b"\xff\xd8\xff"
    assert _held_files(consented.id) == []
    assert _resubmit(client, token).status_code == 422  # used once only


def test_a_new_file_replaces_the_kept_one(client, consented):
    first = _kept_on_error(client, consented)
    response = _resubmit(client, first, media=samples.astronaut_jpeg(), answers=MISSING_ITEM_4)
    second = TOKEN_RE.search(response.get_data(as_text=True)).group(1)
    assert second != first and len(_held_files(consented.id)) == 1
    assert "<strong>new.jpg</strong> is kept" in response.get_data(as_text=True)


def test_another_patient_cannot_use_the_token(app, client, consented):
    token = _kept_on_error(client, consented)
    stranger = factories.patient()
    consent.grant(stranger)
    other = app.test_client()
    login(other, stranger)
    response = _resubmit(other, token)
    assert response.status_code == 422 and "no longer kept" in response.get_data(as_text=True)
    assert len(_held_files(consented.id)) == 1
    assert db.session.scalar(db.select(db.func.count(Screening.id))) == 0


def test_an_expired_upload_is_refused_and_swept(app, client, consented):
    token = _kept_on_error(client, consented)
    (path,) = _held_files(consented.id)
    an_hour_ago = time.time() - app.config["HELD_UPLOAD_SECONDS"] - 1
    os.utime(media_store.media_root() / path, (an_hour_ago, an_hour_ago))
    response = _resubmit(client, token)
    assert response.status_code == 422 and "no longer kept" in response.get_data(as_text=True)
    assert _held_files(consented.id) == []

    _kept_on_error(client, consented)
    fresh = _kept_on_error(client, consented)  # two kept now, one about to expire
    stale = next(p for p in _held_files(consented.id) if fresh not in p)
    os.utime(media_store.media_root() / stale, (an_hour_ago, an_hour_ago))
    assert held_upload_job.sweep_held_uploads() == 1
    assert [fresh in p for p in _held_files(consented.id)] == [True]
    assert get_redis().exists(lease_key("held-upload-sweep"))  # the sweep scheduled its next run


def test_a_malformed_token_is_no_token(client, consented):
    assert held_uploads.load(consented.id, "../../etc/passwd") is None
    response = _resubmit(client, "../../x")
    assert response.status_code == 422 and "no longer kept" in response.get_data(as_text=True)
