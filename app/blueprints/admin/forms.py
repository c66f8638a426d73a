"""Admin forms. Action forms carry only the CSRF token; filters are GET forms without one."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.i18n.marker import N_
from app.models._ids import parse_id
from app.models.user import Role, VerificationStatus

ROLE_LABELS = {Role.PATIENT: N_("Patient"), Role.DOCTOR: N_("Doctor"), Role.ADMIN: N_("Admin")}
VERIFICATION_LABELS = {
    VerificationStatus.PENDING: N_("Pending"),
    VerificationStatus.VERIFIED: N_("Verified"),
    VerificationStatus.REJECTED: N_("Rejected"),
    VerificationStatus.REVOKED: N_("Revoked"),
}


class ActionForm(FlaskForm):
    """A button that changes something: nothing to fill in, but CSRF-protected."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the doctor will see it)"), validators=[
        DataRequired(message=_l("Give a reason: the doctor will see it.")), Length(max=1000)])


class _GetForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing


class UserSearchForm(_GetForm):
    email = StringField(_l("E-mail contains"), validators=[Optional(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[SelectChoice("", _l("Any role"))]
                       + [SelectChoice(r.value, _l(ROLE_LABELS[r])) for r in Role],
                       validators=[Optional()])
    status = SelectField(_l("Status"),
                         choices=[SelectChoice("", _l("Any status")), SelectChoice("active", _l("Active")),
                                  SelectChoice("inactive", _l("Deactivated"))],
                         validators=[Optional()])


class DoctorFilterForm(_GetForm):
    status = SelectField(_l("Status"),
                         choices=[SelectChoice(s.value, _l(VERIFICATION_LABELS[s]))
                                  for s in VerificationStatus]
                         + [SelectChoice("all", _l("All"))], default=VerificationStatus.PENDING.value,
                         validators=[Optional()])


def _email_or_id(form, field) -> None:
    """A number must be a plain id (ASCII digits that fit a column); anything else is an e-mail."""
    value = (field.data or "").strip()
    if value and "@" not in value and parse_id(value) is None:
        raise ValidationError(_("Give an e-mail address or a user id (digits only)."))


class AuditFilterForm(_GetForm):
    actor = StringField(_l("Actor (e-mail or id)"), validators=[Optional(), Length(max=254), _email_or_id])
    patient = StringField(_l("Patient (e-mail or id)"),
                          validators=[Optional(), Length(max=254), _email_or_id])
    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end date is before the start date."))
