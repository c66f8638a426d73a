"""A simulated cohort: patients whose facial indicator depends on PHQ-9 with a known strength.

No real clinic data can reach a development machine, so the validation study is demonstrated and
tested on patients whose truth is known: a screening with PHQ-9 >= 10 gets an indicator drawn
`separation` standard deviations higher than one below 10, which makes the true ROC AUC
Phi(separation / sqrt 2). Every simulated row says so: the patient is named "Simulated patient",
their address is on SIMULATED_DOMAIN, the facial result carries "simulated": true, and the plugin
version is SIMULATED_VERSION, so the study counts them as a group of their own that the model
card labels as simulated and that never mixes with a real version's figures.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

import numpy as np

from app.clinical.phq9 import score_phq9
from app.extensions import db
from app.ml.scoring import INDICATOR_VERSION
from app.models._time import utcnow
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from app.models.user import ConsentRecord, PatientProfile, Role, User
from app.security import audit
from app.security.passwords import hash_password
from app.services.research_consent import RESEARCH_CONSENT, RESEARCH_CONSENT_VERSION

SIMULATED_DOMAIN = "simulated.moodlens.local"
SIMULATED_VERSION = "simulated"
INDICATOR_MEAN_BELOW_10 = 40.0
INDICATOR_SD = 12.0


@dataclass(frozen=True)
class Cohort:
    patients: int
    screenings: int
    separation: float

    @property
    def true_auc(self) -> float:
        """AUC of two normals `separation` SDs apart: Phi(d / sqrt 2) = (1 + erf(d / 2)) / 2."""
        return 0.5 * (1 + math.erf(self.separation / 2))


def _answers_for(total: int, rng: np.random.Generator) -> list[int]:
    """Nine answers (0-3) summing to `total`, item 9 at 0: a simulation never raises the crisis path."""
    answers = [0] * 9
    for _ in range(total):
        item = rng.choice([i for i in range(8) if answers[i] < 3])
        answers[item] += 1
    return answers


def _summary(indicator: float) -> dict:
    """A facial summary consistent with the indicator: sadder and more negative as it rises."""
    sad = round(indicator / 100, 4)
    return {"indicator": round(indicator, 1), "version": INDICATOR_VERSION, "spread": 5.0,
            "distribution": {"sad": sad, "happy": round(1 - sad, 4)}, "negative_share": sad,
            "expressivity": None}


def seed(patients: int, plugin_name: str, separation: float = 1.0, kind: ScreeningKind = ScreeningKind.PHOTO,
         seed_value: int = 0) -> Cohort:
    """Create `patients` simulated patients with research consent and one completed screening each."""
    if not 1 <= patients <= 10_000:
        raise ValueError("A simulated cohort has between 1 and 10,000 patients.")
    rng = np.random.default_rng(seed_value)
    # One hash for the whole cohort of a password nobody knows: simulated patients never sign in.
    password_hash = hash_password(secrets.token_urlsafe(24))
    batch = secrets.token_hex(4)
    now = utcnow()
    for number in range(1, patients + 1):
        total = int(rng.integers(0, 25))  # 0-24: item 9 stays 0
        positive = total >= 10
        indicator = float(np.clip(rng.normal(INDICATOR_MEAN_BELOW_10 + separation * INDICATOR_SD * positive,
                                             INDICATOR_SD), 0, 100))
        user = User(email=f"sim-{batch}-{number}@{SIMULATED_DOMAIN}", password_hash=password_hash,
                    role=Role.PATIENT, email_verified_at=now)
        user.patient_profile = PatientProfile(full_name=f"Simulated patient {number}", date_of_birth=None)
        user.patient_profile.consents.append(
            ConsentRecord(kind=RESEARCH_CONSENT, text_version=RESEARCH_CONSENT_VERSION, granted_at=now))
        phq9 = score_phq9(_answers_for(total, rng))
        db.session.add(user)
        db.session.flush()
        db.session.add(Screening(
            patient_id=user.id, kind=kind, status=ScreeningStatus.DONE, progress=1.0, stage="Done",
            plugin_name=plugin_name, plugin_version=SIMULATED_VERSION, consent_version="simulated",
            created_at=now, finished_at=now, phq9_answers=list(phq9.answers), phq9_difficulty=None,
            phq9_total=phq9.total, phq9_item9=0, phq9_band=phq9.band, urgent=False,
            affect_indicator=round(indicator, 1), face_status="one",
            facial_result={"kind": kind.value, "simulated": True, "status": "one",
                           "summary": _summary(indicator)}))
    audit.record("demo.simulated_cohort", details={"patients": patients, "separation": separation})
    db.session.commit()
    return Cohort(patients=patients, screenings=patients, separation=separation)
