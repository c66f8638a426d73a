"""Measurement-based care: how a patient is doing on PHQ-9 over an episode of treatment.

The one place these definitions live; the caseload, the consultation's treat-to-target prompts,
the report and the patient's own history all read them from here.

- Baseline: the PHQ-9 at the start of treatment (the last shared screening on or before the
  first confirmed diagnosis; when none precedes it, the first one after it), or the first shared
  screening while no diagnosis is confirmed.
- Change: latest minus baseline, in points and in percent of the baseline (no percent for a
  baseline of 0).
- Response: a drop of at least 50 % from the baseline (Kroenke et al. 2001; the collaborative-
  care and STAR*D convention).
- Remission: a PHQ-9 total below 5.
- No response at 10–12 weeks: a follow-up screening taken 10 or more weeks into treatment shows
  neither response nor remission — the collaborative-care point to adjust treatment (Unützer
  et al., IMPACT). It stays until the patient responds.
- Worsening: the latest total at least 5 points above the previous screening or the baseline
  (5 points is the PHQ-9's minimal clinically important difference, Löwe et al. 2004).

Nothing here decides anything: these are prompts for a clinician.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from app.clinical.triage import is_crisis
from app.i18n.marker import N_

REMISSION_BELOW = 5
WORSENING_POINTS = 5
NO_RESPONSE_AFTER_WEEKS = 10
MINUS = "\u2212"  # a real minus sign: "−60 %", not a hyphen


class Measurement(NamedTuple):
    """One PHQ-9 screening as these rules need it (a tuple: a caseload reads thousands)."""

    when: datetime
    total: int
    item9: int = 0
    affect: float | None = None  # facial-affect indicator, 0–100; never used by the rules


class Status(enum.StrEnum):
    REMISSION = "remission"
    RESPONSE = "response"
    NO_RESPONSE = "no_response"
    NOT_YET = "not_yet"              # followed up, no response yet, under 10 weeks of treatment
    BASELINE_ONLY = "baseline_only"  # nothing measured after the baseline yet
    NO_DATA = "no_data"              # no shared screening


STATUS_LABELS = {
    Status.REMISSION: N_("remission"),
    Status.RESPONSE: N_("response"),
    Status.NO_RESPONSE: N_("no response at 10+ weeks"),
    Status.NOT_YET: N_("no response yet"),
    Status.BASELINE_ONLY: N_("awaiting follow-up"),
    Status.NO_DATA: N_("no screening"),
}


def _untranslated(message: str, **params) -> str:
    """The default for a `_` parameter: the English text, filled in as gettext would."""
    return message % params if params else message


class Attention(enum.IntEnum):
    """Who needs the doctor first; lower comes first."""

    ITEM9 = 0        # item 9 > 0 on the latest screening
    WORSENING = 1
    OVERDUE = 2      # follow-up screening overdue
    NO_RESPONSE = 3
    ROUTINE = 4


# Marked for the catalogue: the caseload shows them in the doctor's language.
ATTENTION_LABELS = {
    Attention.ITEM9: N_("thoughts of self-harm reported"),
    Attention.WORSENING: N_("worsening"),
    Attention.OVERDUE: N_("follow-up overdue"),
    Attention.NO_RESPONSE: N_("no response at 10+ weeks"),
    Attention.ROUTINE: "",
}


# --- The definitions, one function each ----------------------------------------------------

def is_remission(total: int) -> bool:
    return total < REMISSION_BELOW


def is_response(baseline: int, latest: int) -> bool:
    """A drop of at least half the baseline (exactly 50 % counts). A baseline of 0 cannot drop."""
    return baseline > 0 and 2 * (baseline - latest) >= baseline


def change_percent(baseline: int, latest: int) -> float | None:
    return None if baseline == 0 else 100.0 * (latest - baseline) / baseline


def is_worsening(reference: int, latest: int) -> bool:
    return latest - reference >= WORSENING_POINTS


def weeks_between(start: datetime, end: datetime) -> int:
    """Whole weeks from `start` to `end` (0 before `start`)."""
    return max(0, (end - start).days // 7)


def choose_baseline(measurements: Sequence[Measurement], treatment_start: datetime | None
                    ) -> Measurement | None:
    """`measurements` oldest first."""
    if not measurements:
        return None
    if treatment_start is None:
        return measurements[0]
    before = [m for m in measurements if m.when <= treatment_start]
    return before[-1] if before else measurements[0]


# --- One episode, evaluated ----------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    baseline: Measurement | None
    latest: Measurement | None
    previous: Measurement | None      # the screening before the latest one
    treatment_start: datetime | None  # first confirmed diagnosis
    weeks_in_treatment: int | None    # until now
    weeks_at_latest: int | None       # when the latest screening was taken
    status: Status
    worsening: bool
    worsening_points: int             # the rise that made it worsening (0 otherwise)

    @property
    def item9(self) -> bool:
        return self.latest is not None and is_crisis(self.latest.item9)

    @property
    def followed_up(self) -> bool:
        return self.latest is not None and self.latest is not self.baseline

    @property
    def responded(self) -> bool:
        """At least 50 % below the baseline at the latest follow-up."""
        return self.followed_up and is_response(self.baseline.total, self.latest.total)

    @property
    def remitted(self) -> bool:
        """Below 5 at the latest follow-up."""
        return self.followed_up and is_remission(self.latest.total)

    @property
    def change_points(self) -> int | None:
        if self.baseline is None or self.latest is None:
            return None
        return self.latest.total - self.baseline.total

    @property
    def change_percent(self) -> float | None:
        if self.baseline is None or self.latest is None:
            return None
        return change_percent(self.baseline.total, self.latest.total)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def evaluate(measurements: Sequence[Measurement], treatment_start: datetime | None,
             now: datetime) -> Outcome:
    """The outcome of an episode from its PHQ-9 screenings (any order) at time `now`."""
    ordered = sorted(measurements, key=lambda m: m.when)
    baseline = choose_baseline(ordered, treatment_start)
    latest = ordered[-1] if ordered else None
    previous = ordered[-2] if len(ordered) >= 2 else None
    in_treatment = treatment_start is not None
    weeks_now = weeks_between(treatment_start, now) if in_treatment else None
    weeks_at_latest = (weeks_between(treatment_start, latest.when)
                       if in_treatment and latest is not None else None)

    rise = 0
    if latest is not None:
        references = [m.total for m in (previous, baseline) if m is not None and m is not latest]
        rise = max((latest.total - r for r in references), default=0)
    worsening = rise >= WORSENING_POINTS

    if latest is None:
        status = Status.NO_DATA
    elif latest is baseline:
        status = Status.BASELINE_ONLY
    elif is_remission(latest.total):
        status = Status.REMISSION
    elif is_response(baseline.total, latest.total):
        status = Status.RESPONSE
    elif weeks_at_latest is not None and weeks_at_latest >= NO_RESPONSE_AFTER_WEEKS:
        status = Status.NO_RESPONSE
    else:
        status = Status.NOT_YET
    return Outcome(baseline, latest, previous, treatment_start, weeks_now, weeks_at_latest,
                   status, worsening, rise if worsening else 0)


def attention(outcome: Outcome, overdue: bool) -> Attention:
    if outcome.item9:
        return Attention.ITEM9
    if outcome.worsening:
        return Attention.WORSENING
    if overdue:
        return Attention.OVERDUE
    if outcome.status is Status.NO_RESPONSE:
        return Attention.NO_RESPONSE
    return Attention.ROUTINE


def attention_key(outcome: Outcome, overdue: bool, name: str) -> tuple:
    """Sort key: attention first, then the higher latest PHQ-9, then the name."""
    latest = outcome.latest.total if outcome.latest is not None else -1
    return (attention(outcome, overdue), -latest, name.casefold())


# --- Words ---------------------------------------------------------------------------------

def format_points(points: int | None) -> str:
    if points is None:
        return "—"
    return f"+{points}" if points > 0 else (f"{MINUS}{-points}" if points < 0 else "0")


def format_percent(percent: float | None) -> str:
    if percent is None:
        return "—"
    value = round(percent)
    if value > 0:
        return f"+{value} %"
    return f"{MINUS}{-value} %" if value < 0 else "0 %"


@dataclass(frozen=True)
class Prompt:
    """A treat-to-target suggestion for the doctor, never a decision."""

    kind: str
    text: str


def prompts(outcome: Outcome) -> list[Prompt]:
    """What the definitions suggest the doctor looks at, most pressing first."""
    found: list[Prompt] = []
    latest, baseline = outcome.latest, outcome.baseline
    if outcome.item9:
        found.append(Prompt("item9", "The latest screening reports thoughts of self-harm (PHQ-9 item 9): "
                                     "check on the patient's safety."))
    if outcome.worsening:
        found.append(Prompt("worsening", f"PHQ-9 up {outcome.worsening_points} points (now {latest.total}): "
                                         "consider reviewing the plan."))
    if outcome.status is Status.NO_RESPONSE:
        found.append(Prompt("no_response",
                            f"No response after {outcome.weeks_at_latest} weeks of treatment (PHQ-9 "
                            f"{baseline.total} → {latest.total}, {format_percent(outcome.change_percent)}): "
                            "consider adjusting the plan."))
    if outcome.status is Status.REMISSION:
        found.append(Prompt("remission", f"PHQ-9 {latest.total}, below {REMISSION_BELOW}: remission. "
                                         "Consider how to keep it and how often to follow up."))
    return found


def plain_words(outcome: Outcome, _: Callable[..., str] = _untranslated) -> str | None:
    """The patient's own summary, without jargon or percentages. `_` is the caller's gettext
    (this package may not import Flask): the summary comes back in the reader's language."""
    baseline, latest = outcome.baseline, outcome.latest
    if latest is None:
        return None
    if outcome.status is Status.BASELINE_ONLY:
        return _("Your next follow-up screening will show how you are doing compared with the start.")
    if outcome.worsening:
        return _("Your latest score is higher than before. Please tell your doctor how you are doing; "
                 "you can write to them from the consultation page.")
    if outcome.status is Status.REMISSION:
        return _("Your score is now %(latest)d, below %(below)d: the range where symptoms are "
                 "minimal (it was %(baseline)d at the start).",
                 latest=latest.total, below=REMISSION_BELOW, baseline=baseline.total)
    if outcome.status is Status.RESPONSE:
        if outcome.treatment_start:
            return _("Your score has dropped by half or more since you started treatment "
                     "(from %(baseline)d to %(latest)d).", baseline=baseline.total, latest=latest.total)
        return _("Your score has dropped by half or more since your first shared screening "
                 "(from %(baseline)d to %(latest)d).", baseline=baseline.total, latest=latest.total)
    if latest.total < baseline.total and outcome.treatment_start:
        words = _("Your score has dropped by %(points)d points since you started treatment "
                  "(from %(baseline)d to %(latest)d).",
                  points=baseline.total - latest.total, baseline=baseline.total, latest=latest.total)
    elif latest.total < baseline.total:
        words = _("Your score has dropped by %(points)d points since your first shared screening "
                  "(from %(baseline)d to %(latest)d).",
                  points=baseline.total - latest.total, baseline=baseline.total, latest=latest.total)
    else:
        words = _("Your score is about where it was at the start (from %(baseline)d to %(latest)d).",
                  baseline=baseline.total, latest=latest.total)
    if outcome.status is Status.NO_RESPONSE or latest.total >= baseline.total:
        words += " " + _("If you are not feeling better, talk with your doctor: treatments can be adjusted.")
    return words
