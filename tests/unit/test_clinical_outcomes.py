"""The measurement-based-care definitions (app.clinical.outcomes) at their edges."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.clinical import outcomes
from app.clinical.outcomes import Attention, Measurement, Status, evaluate

T0 = datetime(2026, 1, 5, 9, 0)


def week(n: float) -> datetime:
    return T0 + timedelta(weeks=n)


def episode(*points: tuple[float, int], item9_last: int = 0) -> list[Measurement]:
    found = [Measurement(week(w), total) for w, total in points]
    if item9_last:
        found[-1] = Measurement(found[-1].when, found[-1].total, item9_last)
    return found


@pytest.mark.parametrize("baseline,latest,response", [
    (20, 10, True),    # exactly 50 %
    (20, 11, False),   # 45 %
    (15, 7, True),     # 53 %
    (15, 8, False),    # 46.7 %: "half" is not rounded up
    (1, 0, True),
    (0, 0, False),     # a baseline of 0 cannot drop
])
def test_response_is_a_drop_of_at_least_half(baseline, latest, response):
    assert outcomes.is_response(baseline, latest) is response


@pytest.mark.parametrize("total,remission", [(4, True), (5, False), (0, True), (27, False)])
def test_remission_is_below_five(total, remission):
    assert outcomes.is_remission(total) is remission


def test_change_percent_and_its_words():
    assert outcomes.change_percent(20, 8) == -60
    assert outcomes.change_percent(0, 6) is None
    assert outcomes.format_percent(-60.0) == "\u221260 %"
    assert outcomes.format_percent(25.0) == "+25 %"
    assert outcomes.format_percent(0.2) == "0 %"
    assert outcomes.format_percent(None) == "—"
    assert outcomes.format_points(-12) == "\u221212"
    assert outcomes.format_points(3) == "+3"


def test_twenty_at_diagnosis_and_eight_ten_weeks_later_is_a_response_of_minus_60_percent():
    outcome = evaluate(episode((0, 20), (10, 8)), treatment_start=week(0), now=week(10))
    assert outcome.status is Status.RESPONSE
    assert outcome.change_points == -12
    assert outcomes.format_percent(outcome.change_percent) == "\u221260 %"


@pytest.mark.parametrize("weeks,status", [
    (9.9, Status.NOT_YET),
    (10, Status.NO_RESPONSE),
    (12, Status.NO_RESPONSE),
    (20, Status.NO_RESPONSE),   # still not responding later: the prompt stays
])
def test_no_response_from_ten_weeks_of_treatment(weeks, status):
    outcome = evaluate(episode((0, 18), (weeks, 14)), treatment_start=week(0), now=week(weeks))
    assert outcome.status is status
    assert outcome.weeks_at_latest == int(weeks)


def test_no_response_counts_weeks_at_the_latest_screening_not_today():
    outcome = evaluate(episode((0, 18), (4, 14)), treatment_start=week(0), now=week(12))
    assert outcome.weeks_in_treatment == 12 and outcome.weeks_at_latest == 4
    assert outcome.status is Status.NOT_YET


def test_remission_wins_over_response_and_a_baseline_of_zero_never_responds():
    assert evaluate(episode((0, 20), (8, 4)), week(0), week(8)).status is Status.REMISSION
    assert evaluate(episode((0, 20), (8, 5)), week(0), week(8)).status is Status.RESPONSE
    zero = evaluate(episode((0, 0), (12, 6)), week(0), week(12))
    assert zero.change_percent is None and zero.change_points == 6
    assert zero.status is Status.NO_RESPONSE and zero.worsening


def test_baseline_is_the_last_screening_before_the_diagnosis_else_the_first_after():
    points = episode((0, 12), (1, 20), (4, 15))
    assert outcomes.choose_baseline(points, week(2)).total == 20
    assert outcomes.choose_baseline(points, week(-1)).total == 12
    assert outcomes.choose_baseline(points, None).total == 12  # no diagnosis: first shared
    assert outcomes.choose_baseline([], week(0)) is None


def test_statuses_without_follow_up():
    assert evaluate([], week(0), week(3)).status is Status.NO_DATA
    only = evaluate(episode((0, 3)), week(0), week(3))
    assert only.status is Status.BASELINE_ONLY and not only.followed_up  # 3 is no "remission" yet


@pytest.mark.parametrize("points,worsening", [
    (((0, 10), (2, 15)), True),               # +5 from the previous screening
    (((0, 10), (2, 14)), False),
    (((0, 10), (2, 8), (4, 12)), False),      # +4 from previous, +2 from baseline
    (((0, 10), (2, 13), (4, 15)), True),      # +2 from previous, +5 from baseline
])
def test_worsening_by_five_points_from_the_previous_screening_or_the_baseline(points, worsening):
    assert evaluate(episode(*points), week(0), week(5)).worsening is worsening


def test_attention_order_item9_worsening_overdue_no_response_rest():
    item9 = evaluate(episode((0, 10), (2, 6), item9_last=1), week(0), week(3))
    worse = evaluate(episode((0, 10), (2, 16)), week(0), week(3))
    stuck = evaluate(episode((0, 18), (11, 16)), week(0), week(11))
    fine = evaluate(episode((0, 18), (4, 8)), week(0), week(5))
    assert outcomes.attention(item9, overdue=True) is Attention.ITEM9
    assert outcomes.attention(worse, overdue=True) is Attention.WORSENING
    assert outcomes.attention(fine, overdue=True) is Attention.OVERDUE
    assert outcomes.attention(stuck, overdue=False) is Attention.NO_RESPONSE
    assert outcomes.attention(fine, overdue=False) is Attention.ROUTINE
    keyed = sorted([("Fine", fine, False), ("Stuck", stuck, False), ("Late", fine, True),
                    ("Worse", worse, False), ("Item", item9, False)],
                   key=lambda entry: outcomes.attention_key(entry[1], entry[2], entry[0]))
    assert [name for name, _, _ in keyed] == ["Item", "Worse", "Late", "Stuck", "Fine"]


def test_prompts_and_plain_words():
    stuck = evaluate(episode((0, 18), (11, 16)), week(0), week(11))
    assert [p.kind for p in outcomes.prompts(stuck)] == ["no_response"]
    assert "No response after 11 weeks of treatment" in outcomes.prompts(stuck)[0].text
    assert outcomes.plain_words(stuck) == (
        "Your score has dropped by 2 points since you started treatment (from 18 to 16). "
        "If you are not feeling better, talk with your doctor: treatments can be adjusted.")
    halved = evaluate(episode((0, 20), (10, 8)), week(0), week(10))
    assert outcomes.prompts(halved) == []
    assert outcomes.plain_words(halved) == ("Your score has dropped by half or more since you started "
                                            "treatment (from 20 to 8).")
    well = evaluate(episode((0, 20), (10, 3)), week(0), week(10))
    assert [p.kind for p in outcomes.prompts(well)] == ["remission"]
    assert "below 5" in outcomes.plain_words(well)
    assert outcomes.plain_words(evaluate([], None, week(0))) is None
