"""The PHQ-9's words and bands in the reader's language.

app/clinical keeps its texts in English, marked with N_ (it may not import Flask); pages show
them through these, so a doctor and a patient each read the questionnaire in their own language
(the Spanish catalogue holds the validated Spanish PHQ-9, docs/clinical.md).
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from flask_babel import gettext, lazy_gettext

from app.clinical import phq9


def stem() -> str:
    return gettext(phq9.PHQ9_STEM)


def difficulty_question() -> str:
    return gettext(phq9.DIFFICULTY_QUESTION)


def items() -> list[str]:
    return [gettext(text) for text in phq9.PHQ9_ITEMS]


def answer_options() -> list[str]:
    return [gettext(text) for text in phq9.ANSWER_OPTIONS]


def difficulty_options() -> list[str]:
    return [gettext(text) for text in phq9.DIFFICULTY_OPTIONS]


def lazy(texts: tuple[str, ...]) -> list:
    """For form labels built at import time: translated when each page renders them."""
    return [lazy_gettext(text) for text in texts]


def band(value: phq9.Band) -> phq9.Band:
    return replace(value, label=gettext(value.label), proposed_action=gettext(value.proposed_action),
                   plain_meaning=gettext(value.plain_meaning), plain_next=gettext(value.plain_next))


def result(value: phq9.Phq9Result) -> SimpleNamespace:
    """A scored PHQ-9 as templates read it (the fields of `to_dict`), its labels translated."""
    fields = value.to_dict()
    for key in ("band_label", "proposed_action", "syndrome_label", "difficulty_label"):
        if fields[key]:
            fields[key] = gettext(fields[key])
    return SimpleNamespace(**fields)
