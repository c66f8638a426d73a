"""PHQ-9 scoring, as published by Kroenke, Spitzer & Williams (2001) and Kroenke & Spitzer (2002).

Pure: answers in, a frozen result out. Nine items scored 0-3 ("not at all" ... "nearly every
day") give a total of 0-27, read in five severity bands, each with the proposed treatment
action of Kroenke & Spitzer 2002 (table 3). The provisional diagnostic algorithm (Spitzer et
al. 1999; Kroenke et al. 2001) counts items answered "more than half the days" or more (>= 2),
item 9 counting whenever it is above 0:
  major depressive syndrome: >= 5 such items, one of them item 1 or item 2;
  other depressive syndrome: 2-4 such items, one of them item 1 or item 2.
These are provisional screening results, never a diagnosis.

Every text here is English and marked with N_ for the catalogues; pages translate it where
they show it. The Spanish catalogue carries the validated Spanish PHQ-9 (docs/clinical.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.clinical.triage import is_crisis
from app.i18n.marker import N_

PHQ9_STEM = N_("Over the last 2 weeks, how often have you been bothered by any of the following problems?")

PHQ9_ITEMS: tuple[str, ...] = (
    N_("Little interest or pleasure in doing things"),
    N_("Feeling down, depressed, or hopeless"),
    N_("Trouble falling or staying asleep, or sleeping too much"),
    N_("Feeling tired or having little energy"),
    N_("Poor appetite or overeating"),
    N_("Feeling bad about yourself — or that you are a failure or have let yourself or your family down"),
    N_("Trouble concentrating on things, such as reading the newspaper or watching television"),
    N_("Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
    "fidgety or restless that you have been moving around a lot more than usual"),
    N_("Thoughts that you would be better off dead or of hurting yourself in some way"),
)

ANSWER_OPTIONS: tuple[str, ...] = (
    N_("Not at all"),
    N_("Several days"),
    N_("More than half the days"),
    N_("Nearly every day"),
)

DIFFICULTY_QUESTION = (
    N_("If you checked off any problems, how difficult have these problems made it for you "
    "to do your work, take care of things at home, or get along with other people?")
)
DIFFICULTY_OPTIONS: tuple[str, ...] = (
    N_("Not difficult at all"),
    N_("Somewhat difficult"),
    N_("Very difficult"),
    N_("Extremely difficult"),
)


@dataclass(frozen=True)
class Band:
    key: str
    low: int
    high: int
    label: str
    proposed_action: str  # the clinician's wording (Kroenke & Spitzer 2002, table 3)
    # The patient's wording: what the score means and what they can do next, in plain words
    # (as patient-facing NHS tools put it); never a diagnosis.
    plain_meaning: str
    plain_next: str


BANDS: tuple[Band, ...] = (
    Band("minimal", 0, 4, N_("None–minimal"), N_("None."),
         N_("Your answers show few or no signs of depression over the last two weeks."),
         N_("Keep doing what helps you feel well. If things change, you can take another screening "
         "at any time.")),
    Band("mild", 5, 9, N_("Mild"), N_("Watchful waiting; repeat PHQ-9 at follow-up."),
         N_("Your answers show some signs of low mood, at a mild level. Many people feel like this "
         "for a while."),
         N_("Look after the basics — sleep, daylight, moving your body, time with people you trust — "
         "and take another screening in two weeks. If it does not get better, or gets worse, talk "
         "to a doctor.")),
    Band(
        "moderate",
        10,
        14,
        N_("Moderate"),
        N_("Treatment plan, considering counseling, follow-up and/or pharmacotherapy."),
        N_("Your answers show signs of depression at a moderate level. This is common, and it can be "
        "treated."),
        N_("It is worth talking to a doctor about how you feel: talking therapies and other treatments "
        "help many people. You can contact a doctor through MoodLens."),
    ),
    Band(
        "moderately_severe",
        15,
        19,
        N_("Moderately severe"),
        N_("Active treatment with pharmacotherapy and/or psychotherapy."),
        N_("Your answers show signs of depression at a moderately severe level. It can be treated, and "
        "you do not have to manage it alone."),
        N_("Please talk to a doctor soon, within the next few days. Together you can choose a "
        "treatment, such as a talking therapy or medicine."),
    ),
    Band(
        "severe",
        20,
        27,
        N_("Severe"),
        N_("Immediate initiation of pharmacotherapy and, if severe impairment or poor response to "
           "therapy, expedited referral to a mental health specialist for psychotherapy and/or "
           "collaborative management."),
        N_("Your answers show signs of depression at a severe level. It can be treated, and help is "
        "there now."),
        N_("Please talk to a doctor as soon as you can, today if possible. If you feel you might not "
        "keep yourself safe, call your emergency number now."),
    ),
)
BANDS_BY_KEY = {band.key: band for band in BANDS}

SYNDROME_LABELS = {
    "major": N_("Provisional major depressive syndrome"),
    "other": N_("Provisional other depressive syndrome"),
}


class Phq9Error(ValueError):
    """Answers that cannot be scored; `message` is safe to show the patient."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Phq9Result:
    answers: tuple[int, ...]
    difficulty: int | None
    total: int
    band: str
    band_label: str
    proposed_action: str
    syndrome: str | None  # "major" | "other" | None
    symptom_count: int  # items answered "more than half the days" or more (item 9: any)
    item9_positive: bool  # the crisis rule (app.clinical.triage)

    @property
    def syndrome_label(self) -> str | None:
        return SYNDROME_LABELS.get(self.syndrome) if self.syndrome else None

    @property
    def difficulty_label(self) -> str | None:
        return None if self.difficulty is None else DIFFICULTY_OPTIONS[self.difficulty]

    def to_dict(self) -> dict:
        return {
            "answers": list(self.answers),
            "difficulty": self.difficulty,
            "difficulty_label": self.difficulty_label,
            "total": self.total,
            "band": self.band,
            "band_label": self.band_label,
            "proposed_action": self.proposed_action,
            "syndrome": self.syndrome,
            "syndrome_label": self.syndrome_label,
            "symptom_count": self.symptom_count,
            "item9_positive": self.item9_positive,
        }


def band_for(total: int) -> Band:
    for band in BANDS:
        if band.low <= total <= band.high:
            return band
    raise Phq9Error(f"A PHQ-9 total must be between 0 and 27, not {total}.")


def _valid_score(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3


def score_phq9(answers: Sequence[int], difficulty: int | None = None) -> Phq9Result:
    """Score nine answers (0-3 each) and the optional difficulty item (0-3)."""
    answers = tuple(answers)
    if len(answers) != len(PHQ9_ITEMS):
        raise Phq9Error(f"Please answer all {len(PHQ9_ITEMS)} questions.")
    for number, value in enumerate(answers, start=1):
        if not _valid_score(value):
            raise Phq9Error(f"Question {number} needs an answer between 0 and 3.")
    if difficulty is not None and not _valid_score(difficulty):
        raise Phq9Error("The difficulty question needs an answer between 0 and 3.")
    total = sum(answers)
    band = band_for(total)
    symptomatic = [value >= 2 for value in answers[:8]] + [is_crisis(answers[8])]
    count = sum(symptomatic)
    cardinal = answers[0] >= 2 or answers[1] >= 2
    syndrome = None
    if cardinal and count >= 5:
        syndrome = "major"
    elif cardinal and count >= 2:
        syndrome = "other"
    return Phq9Result(
        answers,
        difficulty,
        total,
        band.key,
        band.label,
        band.proposed_action,
        syndrome,
        count,
        is_crisis(answers[8]),
    )
