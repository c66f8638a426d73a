"""Geometry for the console's inline SVG charts (drawn by templates/admin/models/charts.html).

Computed here, drawn in Jinja (auto-escaped): charts scale to a phone, carry their numbers in
text for screen readers, and need no JavaScript charting library.
"""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 320, 160, 28


def _points(values: list[float], low: float, high: float, count: int) -> list[tuple[float, float]]:
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(1, count - 1)
    return [(round(PAD + i * step, 1), round(HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD), 1))
            for i, v in enumerate(values)]


def curve(train: list[float] | None, validation: list[float] | None) -> dict | None:
    """Training and validation values per epoch scaled onto one chart; None before any epoch."""
    train, validation = list(train or []), list(validation or [])
    values = train + validation
    if not values:
        return None
    low, high = min(values), max(values)
    count = max(len(train), len(validation))
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "low": low, "high": high, "epochs": count,
            "train": _points(train, low, high, count), "validation": _points(validation, low, high, count),
            "train_values": train, "validation_values": validation}


def bars(counts: dict[str, int]) -> dict:
    """One bar per class, heights scaled to the largest."""
    top = max(counts.values(), default=0) or 1
    width = (WIDTH - 2 * PAD) / max(1, len(counts))
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "bar_width": round(width - 4, 1),
            "bars": [{"label": label, "count": count, "x": round(PAD + i * width + 2, 1),
                      "h": round(count / top * (HEIGHT - 2 * PAD - 10), 1)}
                     for i, (label, count) in enumerate(counts.items())]}
