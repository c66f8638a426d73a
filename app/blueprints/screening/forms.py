"""The screening form: one multipart POST with the media and the PHQ-9 answers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app.ml.phq9 import ANSWER_OPTIONS, DIFFICULTY_OPTIONS, PHQ9_ITEMS

ANSWER_CHOICES = [SelectChoice(value, label) for value, label in enumerate(ANSWER_OPTIONS)]
DIFFICULTY_CHOICES = [SelectChoice(value, label) for value, label in enumerate(DIFFICULTY_OPTIONS)]


def _optional_int(value):
    return None if value in (None, "") else int(value)


class ScreeningForm(FlaskForm):
    media = FileField("Photo or clip", validators=[FileRequired("Please choose a photo or record a clip.")])
    # The difficulty item is only asked "if you checked off any problems": it may stay empty.
    difficulty = RadioField(
        "Difficulty", choices=DIFFICULTY_CHOICES, coerce=_optional_int, validate_choice=False
    )

    def validate_difficulty(self, field) -> None:
        if field.data is not None and field.data not in range(len(DIFFICULTY_OPTIONS)):
            raise ValidationError("Please choose one of the answers.")

    @property
    def item_fields(self) -> list:
        return [self[f"q{number}"] for number in range(1, len(PHQ9_ITEMS) + 1)]

    @property
    def answers(self) -> list[int]:
        return [field.data for field in self.item_fields]


for _number, _text in enumerate(PHQ9_ITEMS, start=1):
    setattr(
        ScreeningForm,
        f"q{_number}",
        RadioField(
            _text,
            choices=ANSWER_CHOICES,
            coerce=int,
            validators=[InputRequired(message="Please answer this question.")],
        ),
    )
