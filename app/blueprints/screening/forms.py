"""The screening form: one multipart POST with the media and the PHQ-9 answers."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app.clinical.phq9 import ANSWER_OPTIONS, DIFFICULTY_OPTIONS, PHQ9_ITEMS
from app.web import clinical_text

ANSWER_CHOICES = [SelectChoice(value, label)
                  for value, label in enumerate(clinical_text.lazy(ANSWER_OPTIONS))]
DIFFICULTY_CHOICES = [SelectChoice(value, label)
                      for value, label in enumerate(clinical_text.lazy(DIFFICULTY_OPTIONS))]


def _optional_int(value):
    return None if value in (None, "") else int(value)


UNANSWERED = _l("Please answer this question.")
WITH_FACE, QUESTIONNAIRE_ONLY = "face", "questionnaire"
FACE_CHOICES = [
    SelectChoice(WITH_FACE, _l("With a photo or a short clip of my face")),
    SelectChoice(QUESTIONNAIRE_ONLY, _l("The questionnaire only")),
]


class ScreeningForm(FlaskForm):
    # The face is an optional extra: the PHQ-9 alone is a complete screening. Clients that do not
    # send this field (older pages, API scripts) mean "with a face", as before.
    include = RadioField(_l("What to include"), choices=FACE_CHOICES, default=WITH_FACE)
    media = FileField(_l("Photo or clip"))
    # The token of a photo or clip the server kept when this form last came back with an error
    # (app/storage/held_uploads.py): used when no new file is chosen.
    held_upload = HiddenField()
    # Offered only while a doctor follows the patient (share_offered marks that the box was on
    # the page): unticked keeps this screening private; otherwise it is shared as before.
    share_with_care = BooleanField(_l("Share this screening with my doctor"), default=True)
    share_offered = HiddenField()
    # The difficulty item is only asked "if you checked off any problems": it may stay empty.
    difficulty = RadioField(
        _l("Difficulty"), choices=DIFFICULTY_CHOICES, coerce=_optional_int, validate_choice=False
    )

    def validate_media(self, field) -> None:
        if self.include.data == WITH_FACE and not field.data and not self.held_upload.data:
            raise ValidationError(
                _("Please choose a photo or record a clip — or choose the questionnaire only."))

    @property
    def shares_with_care(self) -> bool:
        return bool(self.share_with_care.data) or not self.share_offered.data

    @property
    def with_face(self) -> bool:
        return self.include.data == WITH_FACE

    def validate_difficulty(self, field) -> None:
        if field.data is not None and field.data not in range(len(DIFFICULTY_OPTIONS)):
            raise ValidationError(_("Please choose one of the answers."))

    @property
    def item_fields(self) -> list:
        return [self[f"q{number}"] for number in range(1, len(PHQ9_ITEMS) + 1)]

    @property
    def answers(self) -> list[int]:
        return [field.data for field in self.item_fields]


for _number, _text in enumerate(clinical_text.lazy(PHQ9_ITEMS), start=1):
    setattr(
        ScreeningForm,
        f"q{_number}",
        RadioField(
            _text,
            choices=ANSWER_CHOICES,
            coerce=int,
            validators=[InputRequired(message=UNANSWERED)],
        ),
    )
