"""Seed the load benchmark's database through the real services (run by run_load.py).

Usage: python bench/load/seed.py OUT.json PATIENTS DOCTORS SCREENERS, with the app's environment
(DATABASE_URL, REDIS_URL, ...) set. Writes the accounts (and the doctors' TOTP secrets) as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security import mfa  # noqa: E402
from app.services import accounts, consent, consultations  # noqa: E402

PASSWORD = "load benchmark passphrase"


def main(out: str, patients: int, doctors: int, screeners: int) -> None:
    app = create_app()
    with app.app_context():
        clinicians = []
        for number in range(doctors):
            doctor = accounts.register_doctor(
                f"doctor{number}@load.moodlens.local",
                PASSWORD,
                f"Load Doctor {number}",
                f"LOAD-{number:05d}",
                "Psychiatry",
                "en",
            )
            accounts.verify_doctor(doctor.email)
            doctor.totp_secret = mfa.new_secret()  # enrolled, as in tests/factories.py
            doctor.mfa_enabled = True
            db.session.commit()
            clinicians.append(
                {
                    "id": doctor.id,
                    "email": doctor.email,
                    "totp_secret": doctor.totp_secret,
                    "consultations": [],
                }
            )
        browsing = []
        for number in range(patients):
            patient = accounts.register_patient(
                f"patient{number}@load.moodlens.local", PASSWORD, f"Load Patient {number}", None
            )
            consent.grant(patient)
            clinician = clinicians[number % doctors]
            doctor = db.session.get(type(patient), clinician["id"])
            consultation = consultations.request_consultation(patient, doctor.id, [], "Load test")
            consultations.accept(doctor, consultation)
            clinician["consultations"].append(consultation.id)
            browsing.append({"email": patient.email, "consultation": consultation.id})
        photo = []
        for number in range(screeners):
            patient = accounts.register_patient(
                f"screener{number}@load.moodlens.local", PASSWORD, f"Load Screener {number}", None
            )
            consent.grant(patient)
            photo.append({"email": patient.email})
    Path(out).write_text(
        json.dumps(
            {"password": PASSWORD, "patients": browsing, "doctors": clinicians, "screeners": photo}, indent=1
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], *(int(arg) for arg in sys.argv[2:5]))
