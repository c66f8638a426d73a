"""When PHQ-9 answers call for a doctor: the three rules, each defined here and nowhere else.

- Crisis: item 9 ("thoughts that you would be better off dead or of hurting yourself") above 0.
  Any answer above "not at all" raises the crisis path, whatever the total (Kroenke & Spitzer
  2002: item 9 needs a direct suicide-risk assessment, independent of the score).
- Urgent triage: a crisis, or a severe total (>= 20). Kroenke & Spitzer 2002 (table 3) pair the
  severe band with immediate treatment and expedited referral, so these requests and shared
  screenings go to the top of the doctor's list.
- Doctor suggested: a crisis, or a total of 10 or more. PHQ-9 >= 10 is the validated cut-off for
  major depression (sensitivity and specificity 88 %, Kroenke, Spitzer & Williams 2001), and from
  10 the proposed action is a treatment plan (Kroenke & Spitzer 2002).

docs/clinical.md explains the choice. These are prompts for the patient and the clinician,
never a diagnosis.
"""

from __future__ import annotations

SEVERE_TOTAL = 20
DOCTOR_SUGGESTED_TOTAL = 10


def is_crisis(item9: int) -> bool:
    return item9 > 0


def is_urgent(total: int, item9: int) -> bool:
    return is_crisis(item9) or total >= SEVERE_TOTAL


def is_doctor_suggested(total: int, item9: int) -> bool:
    return is_crisis(item9) or total >= DOCTOR_SUGGESTED_TOTAL


def is_urgent_screening(screening) -> bool:
    """Urgent triage of a stored screening (anything with `phq9_total` and `phq9_item9`)."""
    return is_urgent(screening.phq9_total or 0, screening.phq9_item9 or 0)
