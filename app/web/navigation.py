"""The navigation bar: which links each role sees. Areas add their entries here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.i18n.marker import N_
from app.models.user import Role
from app.services import chat, notifications


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    roles: tuple[Role, ...]
    badge: Callable[[object], int] | None = None  # e.g. unread counts, given the current user


ENTRIES: list[NavEntry] = [
    NavEntry(N_("Home"), "home.patient", (Role.PATIENT,)),
    NavEntry(N_("Screenings"), "screening.history", (Role.PATIENT,)),
    NavEntry(N_("Home"), "home.doctor", (Role.DOCTOR,)),
    NavEntry(N_("Doctors"), "consultations.doctor_directory", (Role.PATIENT,)),
    NavEntry(N_("Consultations"), "consultations.index", (Role.PATIENT, Role.DOCTOR),
             badge=chat.unread_count),
    NavEntry(N_("Notifications"), "consultations.notifications_page", (Role.PATIENT, Role.DOCTOR),
             badge=notifications.unread_count),
    NavEntry(N_("Privacy"), "account.index", (Role.PATIENT,)),
    NavEntry(N_("Admin"), "admin.index", (Role.ADMIN,)),
    NavEntry(N_("API tokens"), "tokens.personal", (Role.DOCTOR,)),
]


def nav_items() -> list[dict]:
    items = []
    for entry in ENTRIES:
        if current_user.role not in entry.roles:
            continue
        items.append({
            "label": gettext(entry.label),
            "url": url_for(entry.endpoint),
            "active": request.endpoint == entry.endpoint,
            "badge": entry.badge(current_user) if entry.badge else 0,
        })
    return items


def register(app: Flask) -> None:
    @app.context_processor
    def inject_navigation():
        return {"nav_items": nav_items() if current_user.is_authenticated else []}
