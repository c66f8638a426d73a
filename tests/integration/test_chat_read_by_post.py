"""Reading a chat is marked with a CSRF-protected POST sent by the shown log; GETs (opening the
consultation, the htmx poll, a cross-site link) change nothing, so the unread e-mail still goes."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models.care import ChatMessage
from app.services import chat, consultations
from tests import factories
from tests.helpers import client_for, post


def _unread(patient) -> int:
    return chat.unread_count(patient)


def test_get_never_marks_read_and_post_marks_up_to_the_shown_message(app):
    from app.jobs.notifications import notify_unread_message

    patient, doctor = factories.patient(), factories.doctor()
    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    consultations.accept(doctor, consultation)
    first = chat.post_message(doctor, consultation, "How are you?")
    client = client_for(app, patient)
    url = f"/consultations/{consultation.id}"

    page = client.get(url).get_data(as_text=True)
    fragment = client.get(f"{url}/messages", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "How are you?" in page and "How are you?" in fragment
    assert _unread(patient) == 1
    assert notify_unread_message(first.id) is not None  # still unread: the reminder goes out

    # The shown log asks to mark read with a POST naming the last message it showed.
    assert re.search(rf'hx-post="{url}/messages/read"[^>]*hx-vals=\'\{{"up_to": {first.id}\}}\'', fragment)
    no_csrf = client.post(f"{url}/messages/read", data={"up_to": first.id})
    assert no_csrf.status_code == 400 and _unread(patient) == 1
    second = chat.post_message(doctor, consultation, "Are you there?")  # arrives after the render
    response = post(client, f"{url}/messages/read", {"up_to": first.id}, page=url,
                    headers={"HX-Request": "true"})
    assert response.status_code == 204
    read = {m.id: m.read_at for m in db.session.scalars(select(ChatMessage))}
    assert read[first.id] is not None and read[second.id] is None
    assert notify_unread_message(second.id) is not None


def test_mark_read_refuses_strangers_and_bad_input(app):
    patient, doctor = factories.patient(), factories.doctor()
    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    consultations.accept(doctor, consultation)
    chat.post_message(doctor, consultation, "Hello")
    stranger = client_for(app, factories.patient())
    url = f"/consultations/{consultation.id}/messages/read"
    assert post(stranger, url, {"up_to": "1"}, page="/account").status_code == 404
    own = client_for(app, patient)
    assert post(own, url, {"up_to": "x"}, page="/account").status_code == 400
    assert _unread(patient) == 1
