"""Admin forms. Action forms carry only the CSRF token; filters are GET forms without one."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.models._ids import parse_id
from app.models.user import Role, VerificationStatus


class ActionForm(FlaskForm):
    """A button that changes something: nothing to fill in, but CSRF-protected."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason (the doctor will see it)", validators=[
        DataRequired(message="Give a reason: the doctor will see it."), Length(max=1000)])


class _GetForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing


class UserSearchForm(_GetForm):
    email = StringField("E-mail contains", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice("", "Any role")]
                       + [SelectChoice(r.value, r.value.capitalize()) for r in Role],
                       validators=[Optional()])
    status = SelectField("Status",
                         choices=[SelectChoice("", "Any status"), SelectChoice("active", "Active"),
                                  SelectChoice("inactive", "Deactivated")],
                         validators=[Optional()])


class DoctorFilterForm(_GetForm):
    status = SelectField("Status",
                         choices=[SelectChoice(s.value, s.value.capitalize()) for s in VerificationStatus]
                         + [SelectChoice("all", "All")], default=VerificationStatus.PENDING.value,
                         validators=[Optional()])


def _email_or_id(form, field) -> None:
    """A number must be a plain id (ASCII digits that fit a column); anything else is an e-mail."""
    value = (field.data or "").strip()
    if value and "@" not in value and parse_id(value) is None:
        raise ValidationError("Give an e-mail address or a user id (digits only).")


class AuditFilterForm(_GetForm):
    actor = StringField("Actor (e-mail or id)", validators=[Optional(), Length(max=254), _email_or_id])
    patient = StringField("Patient (e-mail or id)", validators=[Optional(), Length(max=254), _email_or_id])
    action = SelectField("Action", validators=[Optional()], validate_choice=False)
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")
