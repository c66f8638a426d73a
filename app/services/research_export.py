"""A de-identified research data set for the hospital's own studies, of consenting patients only.

No names, e-mail addresses, free text or media: each patient is a pseudonym and every date of
theirs is shifted by the same per-patient number of days, so intervals within a patient survive
but calendar dates do not. Pseudonyms and shifts come from a key drawn for this export alone, so
two exports cannot be joined on them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from datetime import datetime, timedelta

from app.models.screening import Screening
from app.services import evidence

MAX_SHIFT_DAYS = 180
COLUMNS = ("participant", "screening_date", "kind", "simulated", "plugin", "plugin_version",
           "indicator_version", "indicator", "indicator_spread", "negative_share", "expressivity",
           *(f"phq9_item{i}" for i in range(1, 10)), "phq9_total", "phq9_band", "doctor_confirmed")


def _digest(key: bytes, patient_id: int) -> bytes:
    return hmac.new(key, str(patient_id).encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, patient_id: int) -> str:
    return "P-" + _digest(key, patient_id)[:6].hex()


def date_shift(key: bytes, patient_id: int) -> timedelta:
    """Between -MAX_SHIFT_DAYS and +MAX_SHIFT_DAYS, fixed for one patient within one export."""
    value = int.from_bytes(_digest(key, patient_id)[6:10], "big")
    return timedelta(days=value % (2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS)


def _shifted_date(when: datetime | None, shift: timedelta) -> str:
    return "" if when is None else (when + shift).date().isoformat()


def _row(screening: Screening, key: bytes, confirmed: bool | None) -> dict:
    summary = (screening.facial_result or {}).get("summary") or {}
    answers = list(screening.phq9_answers) + [""] * (9 - len(screening.phq9_answers))
    return {
        "participant": pseudonym(key, screening.patient_id),
        "screening_date": _shifted_date(screening.created_at, date_shift(key, screening.patient_id)),
        "kind": screening.kind.value,
        "simulated": int(bool((screening.facial_result or {}).get("simulated"))),
        "plugin": screening.plugin_name,
        "plugin_version": screening.plugin_version or "",
        "indicator_version": summary.get("version", ""),
        "indicator": screening.affect_indicator,
        "indicator_spread": summary.get("spread", ""),
        "negative_share": summary.get("negative_share", ""),
        "expressivity": "" if summary.get("expressivity") is None else summary["expressivity"],
        **{f"phq9_item{i}": answers[i - 1] for i in range(1, 10)},
        "phq9_total": screening.phq9_total,
        "phq9_band": screening.phq9_band,
        "doctor_confirmed": "" if confirmed is None else int(confirmed),
    }


def export_csv(key: bytes | None = None) -> tuple[str, int]:
    """The data set as CSV text and its number of rows (one per screening)."""
    key = key or secrets.token_bytes(32)
    screenings = evidence.study_screenings()
    confirmed = evidence.doctors_conclusions(screenings)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for screening in screenings:
        writer.writerow(_row(screening, key, confirmed.get(screening.id)))
    return out.getvalue(), len(screenings)
