"""Form errors as one line, for a 400 that says what to fix."""

from __future__ import annotations

from flask_wtf import FlaskForm


def errors_in(form: FlaskForm) -> str:
    # str(): messages given to validators are lazy (translated when shown).
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
