"""PHQ-9 scoring against Kroenke & Spitzer 2001/2002: every band edge and the syndrome rules."""

import pytest

from app.clinical.phq9 import BANDS, DIFFICULTY_OPTIONS, PHQ9_ITEMS, Phq9Error, score_phq9


def answers_with_total(total: int) -> list[int]:
    """Nine answers summing to `total`, filled from item 3 on (items 1, 2 and 9 stay 0)."""
    answers, left = [0] * 9, total
    for position in [2, 3, 4, 5, 6, 7, 0, 1, 8]:
        step = min(3, left)
        answers[position], left = step, left - step
    assert left == 0
    return answers


@pytest.mark.parametrize(
    ("total", "band", "label"),
    [
        (0, "minimal", "None–minimal"),
        (4, "minimal", "None–minimal"),
        (5, "mild", "Mild"),
        (9, "mild", "Mild"),
        (10, "moderate", "Moderate"),
        (14, "moderate", "Moderate"),
        (15, "moderately_severe", "Moderately severe"),
        (19, "moderately_severe", "Moderately severe"),
        (20, "severe", "Severe"),
        (27, "severe", "Severe"),
    ],
)
def test_band_edges(total, band, label):
    result = score_phq9(answers_with_total(total), None)
    assert (result.total, result.band, result.band_label) == (total, band, label)


@pytest.mark.parametrize(
    ("band", "action_start"),
    [
        ("minimal", "None"),
        ("mild", "Watchful waiting; repeat PHQ-9 at follow-up"),
        ("moderate", "Treatment plan, considering counseling, follow-up and/or pharmacotherapy"),
        ("moderately_severe", "Active treatment with pharmacotherapy and/or psychotherapy"),
        ("severe", "Immediate initiation of pharmacotherapy and, if severe impairment or poor response"),
    ],
)
def test_proposed_action_per_band(band, action_start):
    (match,) = [b for b in BANDS if b.key == band]
    assert match.proposed_action.startswith(action_start)
    assert score_phq9(answers_with_total(match.low)).proposed_action == match.proposed_action


def test_bands_cover_0_to_27_without_gaps():
    covered = [n for b in BANDS for n in range(b.low, b.high + 1)]
    assert covered == list(range(28))


@pytest.mark.parametrize(
    ("answers", "syndrome", "count"),
    [
        # major: >= 5 items at >= 2, one of them item 1 or 2
        ([2, 0, 2, 2, 2, 2, 0, 0, 0], "major", 5),
        ([0, 3, 2, 2, 2, 2, 2, 2, 0], "major", 7),
        # item 9 counts whenever it is above 0 ("several days" is enough)
        ([2, 0, 2, 2, 2, 0, 0, 0, 1], "major", 5),
        ([2, 0, 2, 2, 0, 0, 0, 0, 1], "other", 4),
        # five symptoms but neither item 1 nor 2 at >= 2: no syndrome
        ([1, 1, 2, 2, 2, 2, 2, 0, 0], None, 5),
        # other: 2-4 items, including item 1 or 2
        ([2, 0, 2, 0, 0, 0, 0, 0, 0], "other", 2),
        ([0, 2, 3, 3, 2, 0, 0, 0, 0], "other", 4),
        # a single cardinal symptom is not a syndrome
        ([3, 0, 1, 1, 1, 1, 1, 1, 0], None, 1),
        # "several days" (1) on items 1-8 never counts
        ([1, 1, 1, 1, 1, 1, 1, 1, 0], None, 0),
    ],
)
def test_syndrome_rules(answers, syndrome, count):
    result = score_phq9(answers, None)
    assert result.syndrome == syndrome
    assert result.symptom_count == count


def test_item9_positive_whatever_the_total():
    result = score_phq9([0, 0, 0, 0, 0, 0, 0, 0, 1], None)
    assert result.item9_positive and result.total == 1 and result.band == "minimal"
    assert not score_phq9([3] * 8 + [0]).item9_positive


def test_difficulty_is_optional_and_labelled():
    assert score_phq9([0] * 9, None).difficulty_label is None
    assert score_phq9([0] * 9, 2).difficulty_label == DIFFICULTY_OPTIONS[2]
    assert score_phq9([0] * 9, 3).to_dict()["difficulty"] == 3


@pytest.mark.parametrize(
    ("answers", "difficulty"),
    [
        ([0] * 8, None),
        ([0] * 10, None),
        ([0] * 8 + [4], None),
        ([-1] + [0] * 8, None),
        ([0] * 8 + [None], None),
        (["1"] + [0] * 8, None),
        ([True] + [0] * 8, None),
        ([0] * 9, 4),
        ([0] * 9, -1),
    ],
)
def test_invalid_answers_raise_with_a_message(answers, difficulty):
    with pytest.raises(Phq9Error) as error:
        score_phq9(answers, difficulty)
    assert error.value.message


def test_nine_items():
    assert len(PHQ9_ITEMS) == 9 and "better off dead" in PHQ9_ITEMS[8]
