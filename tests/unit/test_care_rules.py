"""Pure rules of the care loop: worsening, remission, follow-up dates, urgency, charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from app.clinical.triage import is_urgent_screening
from app.services.followups import due_date, is_remission, is_worsening, state_at
from app.services.reports import build_chart

T0 = datetime(2026, 3, 1, 9, 30)


@pytest.mark.parametrize("totals,item9,expected", [
    ([10, 15], 0, True),    # up exactly 5
    ([10, 14], 0, False),   # up 4
    ([20, 12], 0, False),   # better
    ([3], 0, False),        # nothing to compare with
    ([3], 1, True),         # any item 9 > 0
    ([12, 8], 2, True),     # better total, but item 9 > 0
    ([], 0, False),
])
def test_worsening(totals, item9, expected):
    assert is_worsening(totals, item9) is expected


@pytest.mark.parametrize("totals,expected", [([12, 4], True), ([12, 5], False), ([0], True), ([], False)])
def test_remission(totals, expected):
    assert is_remission(totals) is expected


def test_due_date_and_state_with_frozen_time():
    due = due_date(T0, 14)
    assert due == datetime(2026, 3, 15, 9, 30)
    assert state_at(due, due - timedelta(seconds=1), grace_days=3) == "scheduled"
    assert state_at(due, due, grace_days=3) == "due"
    assert state_at(due, due + timedelta(days=3), grace_days=3) == "due"
    assert state_at(due, due + timedelta(days=3, seconds=1), grace_days=3) == "overdue"


@pytest.mark.parametrize("total,item9,urgent", [(19, 0, False), (20, 0, True), (5, 1, True), (0, 0, False)])
def test_urgent_screening(total, item9, urgent):
    assert is_urgent_screening(SimpleNamespace(phq9_total=total, phq9_item9=item9)) is urgent


def test_chart_maps_values_into_the_plot():
    chart = build_chart("PHQ-9", [(T0, 27), (T0 + timedelta(days=7), 0), (T0 + timedelta(days=14), None)],
                        27, [0, 27])
    first, second = chart.points
    assert first["x"] == chart.pad_left and second["x"] == chart.plot_right
    assert first["y"] == chart.pad_top and second["y"] == chart.plot_bottom
    assert chart.polyline.count(",") == 2
    assert build_chart("empty", [], 27, [0]).points == []
