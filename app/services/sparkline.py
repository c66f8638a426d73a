"""A patient's PHQ-9 trend as a small SVG sparkline, with the facial-affect indicator as the
secondary line and a text alternative that says the same in words (the caseload's Trend column).

Coordinates are integers in a viewBox SPARK_SCALE times the drawn size, so the polyline points
stay short and exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.clinical import outcomes
from app.clinical.outcomes import Measurement


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    scale: int      # coordinates are integers in a viewBox `scale` times the drawn size
    phq9: str       # SVG polyline points
    affect: str     # the facial-affect indicator, drawn as the secondary line
    last_x: int
    last_y: int
    text: str       # the text alternative

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width * self.scale} {self.height * self.scale}"


SPARK_W, SPARK_H, SPARK_PAD, SPARK_SCALE = 120, 32, 3, 10


def sparkline(measurements: list[Measurement]) -> Sparkline | None:
    if not measurements:
        return None
    first = measurements[0].when
    span = (measurements[-1].when - first).total_seconds() or 1.0
    pad = SPARK_PAD * SPARK_SCALE
    inner_w, inner_h = (SPARK_W - 2 * SPARK_PAD) * SPARK_SCALE, (SPARK_H - 2 * SPARK_PAD) * SPARK_SCALE
    xs = ([SPARK_W * SPARK_SCALE // 2] if len(measurements) == 1 else
          [int(pad + inner_w * (m.when - first).total_seconds() / span) for m in measurements])
    phq9 = [(x, int(pad + inner_h * (27 - min(m.total, 27)) / 27))
            for x, m in zip(xs, measurements, strict=True)]
    affect = [(x, int(pad + inner_h * (100 - min(max(m.affect, 0), 100)) / 100))
              for x, m in zip(xs, measurements, strict=True) if m.affect is not None]
    totals = [m.total for m in measurements]
    weeks = outcomes.weeks_between(first, measurements[-1].when)
    text = (f"PHQ-9 {totals[0]} to {totals[-1]} over {weeks} week{'s' if weeks != 1 else ''}, "
            f"{len(totals)} screening{'s' if len(totals) != 1 else ''}")
    if len(totals) > 2:
        text += f" (lowest {min(totals)}, highest {max(totals)})"
    if affect:
        affects = [m.affect for m in measurements if m.affect is not None]
        text += f"; facial-affect indicator {affects[0]:.0f} to {affects[-1]:.0f}"
    return Sparkline(SPARK_W, SPARK_H, SPARK_SCALE, " ".join([f"{x},{y}" for x, y in phq9]),
                     " ".join([f"{x},{y}" for x, y in affect]) if len(affect) > 1 else "",
                     phq9[-1][0], phq9[-1][1], text)
