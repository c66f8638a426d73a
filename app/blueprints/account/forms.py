from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[
        DataRequired(message="Enter your password to confirm."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"})
    understood = BooleanField(
        "I understand that my account and all my data will be deleted for good, and that this "
        "cannot be undone.",
        validators=[DataRequired(message="Tick this box to confirm that you want to delete everything.")])
