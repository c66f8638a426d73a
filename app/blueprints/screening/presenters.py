"""Turning a screening row into what its templates draw (chart geometry, labels, flags).

Charts are server-rendered SVG: the CSP forbids inline styles, SVG attributes are fine.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext

from app.clinical.phq9 import Phq9Result, score_phq9
from app.clinical.triage import DOCTOR_SUGGESTED_TOTAL, is_crisis
from app.i18n.marker import N_
from app.models.screening import Screening
from app.services import evidence
from app.services.screenings import frame_indicators
from app.web import clinical_text

CHART_WIDTH = 300
TIMELINE_WIDTH, TIMELINE_HEIGHT = 600, 120
EMOTION_NAMES = {
    "angry": N_("Anger"),
    "disgust": N_("Disgust"),
    "fear": N_("Fear"),
    "happy": N_("Happiness"),
    "sad": N_("Sadness"),
    "surprise": N_("Surprise"),
    "neutral": N_("Neutral"),
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1
    width: float
    y: int

    @property
    def percent(self) -> str:
        return f"{self.value * 100:.0f}%"


def phq9_of(screening: Screening) -> Phq9Result:
    return score_phq9(screening.phq9_answers, screening.phq9_difficulty)


def phq9_items(screening: Screening) -> list[tuple[str, int]]:
    return list(zip(clinical_text.items(), screening.phq9_answers, strict=True))


def distribution_bars(distribution: dict[str, float]) -> list[Bar]:
    ordered = sorted(distribution.items(), key=lambda item: -item[1])
    return [
        Bar(gettext(EMOTION_NAMES[name]) if name in EMOTION_NAMES else name.title(), value,
            round(value * CHART_WIDTH, 1), 22 * row)
        for row, (name, value) in enumerate(ordered)
    ]


def timeline(screening: Screening) -> dict | None:
    """Per-frame indicator polylines (one per stretch with a face) and no-face ticks."""
    frames = screening.frames
    values = frame_indicators(screening)
    if not frames or values is None:
        return None
    duration = max(frame.t_seconds for frame in frames) or 1.0
    segments, current, gaps = [], [], []
    for frame, value in zip(frames, values, strict=True):
        x = round(frame.t_seconds / duration * TIMELINE_WIDTH, 1)
        if value is None:
            gaps.append(x)
            if current:
                segments.append(current)
                current = []
            continue
        current.append(f"{x},{round(TIMELINE_HEIGHT - value / 100 * TIMELINE_HEIGHT, 1)}")
    if current:
        segments.append(current)
    return {
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
        "duration": round(duration, 1),
        "polylines": [" ".join(points) for points in segments if len(points) > 1],
        "dots": [points[0] for points in segments if len(points) == 1],
        "gaps": gaps,
        "frames": len(frames),
        "with_face": sum(f.face_found for f in frames),
    }


def cta_reasons(screening: Screening) -> list[str]:
    """Why the result suggests talking to a doctor (empty: no call to action)."""
    reasons = []
    if is_crisis(screening.phq9_item9):
        reasons.append(gettext("you told us about thoughts of death or self-harm"))
    if screening.phq9_total >= DOCTOR_SUGGESTED_TOTAL:
        reasons.append(gettext("your PHQ-9 score is 10 or more"))
    threshold = evidence.threshold_at(screening.finished_at)
    if screening.affect_indicator is not None and screening.affect_indicator >= threshold:
        reasons.append(gettext("the facial-affect indicator is high"))
    return reasons


def consultation_url(screening: Screening) -> str:
    """The care loop's "talk to a doctor" page, with this screening ticked."""
    return url_for("consultations.new_consultation", screening=screening.id)


# Where the facial indicator says the opposite of the questionnaire (e.g. a smile for the camera
# next to PHQ-9 12): the patient is told so, and that the questionnaire counts.
CALM_FACE_BELOW = 40


def signals_disagree(screening: Screening) -> bool:
    value = screening.affect_indicator
    if value is None:
        return False
    high_face = value >= evidence.threshold_at(screening.finished_at)
    calm_face = value < CALM_FACE_BELOW
    worrying_answers = screening.phq9_total >= DOCTOR_SUGGESTED_TOTAL
    return (worrying_answers and calm_face) or (not worrying_answers and high_face)


def facial_view(screening: Screening) -> dict:
    result = screening.facial_result or {}
    summary = result.get("summary") or {}
    faces = result.get("faces") or []
    image_size = result.get("image_size") or result.get("frame_size")
    return {
        "status": screening.face_status,
        "summary": summary,
        "bars": distribution_bars(summary.get("distribution") or {}),
        "chart_width": CHART_WIDTH,
        "faces": faces,
        "image_size": image_size,
        "timeline": timeline(screening) if screening.kind == "clip" else None,
        "frames_decoded": result.get("frames_decoded"),
        "frames_with_face": result.get("frames_with_face"),
        "max_faces": result.get("max_faces_seen", len(faces)),
        "labels": (result.get("plugin") or {}).get("labels") or [],
        "disagrees": signals_disagree(screening),
    }


def api_payload(screening: Screening) -> dict:
    phq9 = phq9_of(screening)
    facial = None
    if screening.facial_result is not None:
        facial = {
            **screening.facial_result,
            "indicator": screening.affect_indicator,
            "frames": [
                {
                    "index": f.index,
                    "t": f.t_seconds,
                    "face_found": f.face_found,
                    "box": f.box,
                    "probabilities": f.probabilities,
                }
                for f in screening.frames
            ],
        }
    return {
        "id": screening.id,
        "kind": screening.kind.value,
        "status": screening.status.value,
        "failure_reason": screening.failure_reason,
        "progress": screening.progress,
        "stage": screening.stage,
        "created_at": screening.created_at.isoformat() + "Z",
        "finished_at": screening.finished_at.isoformat() + "Z" if screening.finished_at else None,
        "plugin": {"name": screening.plugin_name, "version": screening.plugin_version},
        "urgent": screening.urgent,
        "phq9": phq9.to_dict(),
        "facial": facial,
        "disclaimer": gettext("This is a screening, not a diagnosis."),
    }
