"""The chat in real Chromium: messages are appended, a reader scrolled back keeps their place
and gets a "new messages" marker, the log is keyboard-focusable, and a message reaches the other
side quickly."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.models.care import Consultation
from app.models.user import User
from app.services import chat, consultations
from tests.e2e.browser import log_in, screenshot

pytestmark = pytest.mark.browser


def test_reading_back_is_not_interrupted_by_new_messages(live_server, new_page):
    patient = live_server.create_user("patient", name="Rhea Reader")
    doctor = live_server.create_user("doctor", name="Cal Chat")
    app = live_server.app()
    with app.app_context():
        me, them = db.session.get(User, patient["id"]), db.session.get(User, doctor["id"])
        consultation = consultations.request_consultation(me, them.id, [], "")
        consultations.accept(them, consultation)
        for number in range(1, 31):
            chat.post_message(them if number % 2 else me, consultation, f"Message number {number}.")
        url = f"/consultations/{consultation.id}"
        db.session.remove()

    p = new_page()
    log_in(p, patient)
    p.goto(url)
    log = p.locator("#chat-log")
    log.get_by_text("Message number 30.").wait_for()
    assert log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 40  # opens at the newest
    assert log.get_attribute("tabindex") == "0"
    log.evaluate("el => { el.scrollTop = 0; }")  # the reader scrolls back to the start

    with app.app_context():
        chat.post_message(db.session.get(User, doctor["id"]), db.session.get(
            Consultation, consultation.id), "A new message while you read.")
        db.session.remove()
    sent_at = time.monotonic()
    log.get_by_text("A new message while you read.").wait_for(state="attached", timeout=10_000)
    delay = time.monotonic() - sent_at
    assert delay < 3.5, delay  # the live nudge, or at worst the 2 s fallback poll
    assert log.evaluate("el => el.scrollTop") == 0  # still where the reader was
    marker = p.locator("#chat-new-marker")
    assert marker.is_visible()
    assert log.locator(".care-message").count() == 31  # appended, nothing replaced or doubled
    screenshot(p, "chat-reading-back-marker")
    marker.click()
    assert log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 40
    assert not marker.is_visible()

    # Sending keeps the newest in view and shows the message once.
    p.fill("#body", "Thanks, I read everything.")
    p.click("#send-button")
    log.get_by_text("Thanks, I read everything.").wait_for()
    time.sleep(2.5)  # a poll after the send must not add it again
    assert log.get_by_text("Thanks, I read everything.").count() == 1
