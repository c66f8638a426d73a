from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[
        DataRequired(message="Enter your password to confirm."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    # Asked only of patients who turned two-step login on (the service insists on it then).
    code = StringField("Code from your authenticator app (or a recovery code)",
                       validators=[Optional(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    understood = BooleanField(
        "I understand that my account and all my data will be deleted for good, and that this "
        "cannot be undone.",
        validators=[DataRequired(message="Tick this box to confirm that you want to delete everything.")])
