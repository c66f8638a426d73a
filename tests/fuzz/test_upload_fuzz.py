"""Every hostile file of the corpus through the real upload route, then through a real worker.

One app (real database, a private real Redis), one logged-in patient with consent, one
`flask worker` subprocess for the whole corpus. Each sample must be refused with a 4xx and a
message a patient can read, or become a screening that the worker ends `done`, or `failed`
with a reason; nothing stays waiting, nothing answers 500, and the worker survives it all.
"""

from __future__ import annotations

import html
import re
import subprocess
import time

import pytest

from app.models.screening import ScreeningStatus
from tests.fuzz.corpus import build_corpus
from tests.helpers import form_data, new_patient_client
from tests.worker_process import FLASK, ROOT, load, start_worker, worker_env

pytestmark = pytest.mark.slow

# Valid, different PHQ-9 answers (item 9 positive on one of them: the urgent path as well).
ANSWERS = [(0, 1, 0, 1, 0, 0, 1, 0, 0), (2, 2, 1, 3, 0, 1, 2, 1, 1)]
FORM_ERROR = re.compile(r'<div id="form-error"[^>]*>(.*?)</div>', re.S)
PYTHON_LEAKS = ("Traceback", 'File "', "Exception", "Error:", "av.error", "PIL.", "Werkzeug")
# Refusals the corpus must produce at upload (status, words of the message): bombs are never stored.
MUST_REFUSE = {
    "zero-bytes-jpg": (400, "empty"),
    "zero-bytes-webm": (400, "empty"),
    "png-decompression-bomb": (422, "too large"),
    "png-huge-dimensions-no-data": (422, "too large"),
    "gif-huge-screen": (422, "too large"),
    "jpeg-claims-65535x65535": (422, "too large"),
    "webm-huge-frames": (422, "picture size is too large"),
    "webm-over-long": (422, "longer than"),
    "webm-live-endless": (422, "longer than"),
    "webm-audio-only": (422, "no video"),
    "mp4-audio-only": (422, "no video"),
    "png-16-bit": (422, "not supported"),
    "gif-animated": (422, "Animated"),
    "html-as-png": (415, "neither a photo nor a video"),
    "svg-as-png": (415, "neither a photo nor a video"),
}
# Files that pass the upload checks but that the worker must refuse (status failed, words of the reason).
MUST_FAIL_IN_WORKER = {"webm-grows-huge-mid-clip": "picture size is too large"}
SETTLE_SECONDS = 300
UNEXPECTED = ("error on our side", "took too long")  # app/jobs/analysis.py: non-MediaError reasons


def _upload(client, sample, answers) -> tuple[int, str, int | None]:
    """(status, message or '', screening id or None) for one sample through the real route."""
    try:
        response = client.post(
            "/screenings/new",
            data=form_data(client, sample.data, filename=sample.filename, answers=list(answers)),
            content_type="multipart/form-data",
        )
    except Exception as error:  # TESTING propagates what would be a 500 in production
        raise AssertionError(f"{sample.name}: the upload route raised {error!r} (a 500)") from error
    assert response.status_code < 500, f"{sample.name}: {response.status_code}"
    body = response.get_data(as_text=True)
    if response.status_code == 303:
        return 303, "", int(response.headers["Location"].rsplit("/", 1)[1])
    match = FORM_ERROR.search(body)
    message = html.unescape(match.group(1)).strip() if match else ""
    leaks = [word for word in PYTHON_LEAKS if word in body]
    assert not leaks, f"{sample.name}: {response.status_code} page leaks {leaks}"
    return response.status_code, message, None


def test_every_corpus_sample_is_refused_clearly_or_analysed_by_a_surviving_worker(worker_app):  # noqa: F811
    app, client = worker_app, new_patient_client(worker_app)
    corpus = build_corpus()
    assert len(corpus) >= 40 and len({s.name for s in corpus}) == len(corpus)

    refused: dict[str, tuple[int, str]] = {}
    created: dict[str, int] = {}
    for number, sample in enumerate(corpus):
        status, message, screening_id = _upload(client, sample, ANSWERS[number % 2])
        if screening_id is not None:
            created[sample.name] = screening_id
        else:
            refused[sample.name] = (status, message)
    report = "\n".join(f"  {name}: {status} {message}" for name, (status, message) in refused.items())
    bad = {name: outcome for name, outcome in refused.items()
           if not (400 <= outcome[0] < 500 and len(outcome[1]) >= 15)}
    assert not bad, f"refused without a clear 4xx + message: {bad}\nall refusals:\n{report}"
    for name, (status, words) in MUST_REFUSE.items():
        assert name in refused, f"{name} was accepted (screening {created.get(name)}), must be refused"
        assert refused[name][0] == status and words in refused[name][1], (name, refused[name])
    assert created, "no sample reached the worker: the worker half of the test would prove nothing"

    worker = start_worker(app)
    try:
        finals: dict[str, tuple[str, str | None]] = {}
        deadline = time.monotonic() + SETTLE_SECONDS
        with app.app_context():
            while True:
                rows = {name: load(app, sid) for name, sid in created.items()}
                waiting = {name: row.status.value for name, row in rows.items() if not row.status.finished}
                if not waiting:
                    break
                assert worker.poll() is None, f"the worker died (rc {worker.returncode}); waiting: {waiting}"
                assert time.monotonic() < deadline, f"stuck after {SETTLE_SECONDS} s: {waiting}"
                time.sleep(0.5)
            for name, row in rows.items():
                finals[name] = (row.status.value, row.failure_reason)
        outcomes = "\n".join(f"  {name}: {status} {reason or ''}" for name, (status, reason)
                             in finals.items())
        for name, (status, reason) in finals.items():
            assert status in {ScreeningStatus.DONE.value, ScreeningStatus.FAILED.value}, (name, outcomes)
            if status == ScreeningStatus.FAILED.value:
                assert reason and len(reason) >= 15 and not any(w in reason for w in PYTHON_LEAKS), (
                    f"{name}: failed without a readable reason\n{outcomes}"
                )
                # A bad file must fail as a MediaError (a reason about the file), not as an
                # unexpected exception in the job ("an error on our side", retried in vain).
                assert not any(words in reason for words in UNEXPECTED), (
                    f"{name}: crashed the job\n{outcomes}"
                )
        for name, words in MUST_FAIL_IN_WORKER.items():
            assert name in finals and finals[name][0] == ScreeningStatus.FAILED.value, (name, outcomes)
            assert words in finals[name][1], (name, outcomes)
        # Every result page (and its JSON) renders whatever the worker made of the file.
        for name, screening_id in created.items():
            page = client.get(f"/screenings/{screening_id}")
            assert page.status_code == 200, f"{name}: result page {page.status_code}\n{outcomes}"
            api = client.get(f"/api/v1/screenings/{screening_id}")
            assert api.status_code == 200 and api.get_json()["status"] == finals[name][0], name

        # The same worker is still alive and still takes jobs.
        assert worker.poll() is None, f"the worker exited (rc {worker.returncode})\n{outcomes}"
        ping = subprocess.run(
            [FLASK, "--app", "wsgi", "ping-worker", "--timeout", "60"],
            env=worker_env(app), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )
        assert ping.returncode == 0 and f"pid {worker.pid}" in ping.stdout, ping.stdout + ping.stderr
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    print(f"\nrefused at upload ({len(refused)}):\n{report}")
    print(f"analysed by the worker ({len(finals)}):\n{outcomes}")
