"""Form errors as one line, for a 400 that says what to fix."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_wtf import FlaskForm

Form = TypeVar("Form", bound=FlaskForm)


def errors_in(form: FlaskForm) -> str:
    # str(): messages given to validators are lazy (translated when shown).
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def valid_submission(form: Form) -> Form:
    """The posted form, valid; else a 400 that says what to fix (for a form whose page does not
    come back with the errors at their fields)."""
    if not form.validate_on_submit():
        abort(400, description=errors_in(form))
    return form
