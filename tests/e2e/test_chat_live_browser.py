"""The live chat in real Chromium against gunicorn gthread: a message reaches the other side
through the server-sent nudge in well under the old 2 s poll, and when the stream is cut the
fallback poll still delivers."""

from __future__ import annotations

import os
import statistics
import time

import pytest

from app.extensions import db
from app.models.care import Consultation
from app.models.user import User
from app.services import chat, consultations
from tests.e2e.browser import log_in, screenshot

pytestmark = pytest.mark.browser

MESSAGES = 20

# Records, in the page, when each message first appears in the chat log (ms since the epoch).
WATCH_ARRIVALS = """() => {
  window.arrivals = {};
  new MutationObserver(() => {
    document.querySelectorAll('#chat-log .care-message-body').forEach((body) => {
      if (!(body.textContent in window.arrivals)) { window.arrivals[body.textContent] = Date.now(); }
    });
  }).observe(document.getElementById('chat-log'), {childList: true, subtree: true});
}"""

# Types the message and clicks Send, returning the click's time (same clock as the arrivals:
# both browser contexts run on this machine).
SEND = """(text) => {
  document.getElementById('body').value = text;
  const clicked = Date.now();
  document.getElementById('send-button').click();
  return clicked;
}"""


def _consultation(live_server, patient: dict, doctor: dict) -> str:
    app = live_server.app()
    with app.app_context():
        consultation = consultations.request_consultation(
            db.session.get(User, patient["id"]), doctor["id"], [], "")
        consultations.accept(db.session.get(User, doctor["id"]), consultation)
        url = f"/consultations/{consultation.id}"
        db.session.remove()
    return url


def _open_chat(page, user: dict, url: str) -> None:
    log_in(page, user)
    page.goto(url)
    page.wait_for_selector("#chat-log[data-live=stream]", state="attached")
    page.evaluate(WATCH_ARRIVALS)


def test_a_message_reaches_the_other_side_within_a_second(live_server, new_page):
    patient = live_server.create_user("patient", name="Lia Live")
    doctor = live_server.create_user("doctor", name="Sam Stream")
    url = _consultation(live_server, patient, doctor)
    patient_page, doctor_page = new_page(), new_page()
    _open_chat(patient_page, patient, url)
    _open_chat(doctor_page, doctor, url)

    delays = []
    for number in range(1, MESSAGES + 1):
        sender, receiver = (patient_page, doctor_page) if number % 2 else (doctor_page, patient_page)
        text = f"Live message {number}."
        clicked = sender.evaluate(SEND, text)
        receiver.locator("#chat-log").get_by_text(text).wait_for(state="attached", timeout=10_000)
        delays.append(receiver.evaluate("(text) => window.arrivals[text]", text) - clicked)
        sender.locator("#chat-log").get_by_text(text).wait_for(state="attached")

    delays.sort()
    p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
    load = os.getloadavg()
    print(f"\nchat delivery over SSE: N={len(delays)} median={statistics.median(delays):.0f} ms "
          f"p95={p95:.0f} ms max={delays[-1]:.0f} ms load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores")
    assert p95 <= 1000, delays
    for page in (patient_page, doctor_page):
        assert page.locator("#chat-log .care-message").count() == MESSAGES  # each once
    screenshot(doctor_page, "chat-live-doctor")


def test_the_fallback_poll_delivers_when_the_stream_is_cut(live_server, new_page):
    patient = live_server.create_user("patient", name="Pia Poll")
    doctor = live_server.create_user("doctor", name="Fred Fallback")
    url = _consultation(live_server, patient, doctor)
    page = new_page()
    log_in(page, patient)
    page.context.route("**/stream", lambda route: route.abort())  # a proxy that drops streams
    page.goto(url)
    log = page.locator("#chat-log")
    page.wait_for_selector("#chat-log[data-live=polling]", state="attached")

    app = live_server.app()
    with app.app_context():
        consultation_id = int(url.rsplit("/", 1)[1])
        chat.post_message(db.session.get(User, doctor["id"]), db.session.get(Consultation, consultation_id),
                          "Reached you without the stream.")
        db.session.remove()
    sent_at = time.monotonic()
    log.get_by_text("Reached you without the stream.").wait_for(state="attached", timeout=10_000)
    assert time.monotonic() - sent_at < 3.5  # the 2 s fallback poll
    assert log.get_attribute("data-live") == "polling"
    screenshot(page, "chat-fallback-poll")
