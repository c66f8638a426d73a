"""The consultation (or shared screening) a user asked for by id, or NotFound.

Used by every area that opens a consultation by URL (care loop, reports, caseload), so a record
this user may not see answers exactly like one that does not exist.
"""

from __future__ import annotations

from app.models.care import Consultation
from app.models.screening import Screening
from app.models.user import User
from app.security.policy import chat_visible_to, doctor_treats
from app.services import consultations
from app.services.errors import NotFound


def consultation_for(user: User, consultation_id: int) -> Consultation:
    consultation = consultations.get_for_user(user, consultation_id)
    if consultation is None:
        raise NotFound()
    return consultation


def treated_by(user: User, consultation_id: int) -> Consultation:
    """A consultation whose patient `user` treats as their doctor."""
    consultation = consultation_for(user, consultation_id)
    if not doctor_treats(user, consultation):
        raise NotFound()
    return consultation


def chat_of(user: User, consultation_id: int) -> Consultation:
    """A consultation whose chat `user` may read and write."""
    consultation = consultation_for(user, consultation_id)
    if not chat_visible_to(user, consultation):
        raise NotFound()
    return consultation


def shared_screening(user: User, consultation: Consultation, screening_id: int) -> Screening:
    screening = consultations.shared_screening_for(user, consultation, screening_id)
    if screening is None:
        raise NotFound()
    return screening
