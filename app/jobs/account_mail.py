"""RQ jobs that send account e-mails: address confirmation, password reset, sign-up notices,
and the security notice after a password or second factor changed.

The links are signed here, in the worker, so no usable token waits in the queue. The e-mails
say nothing about screenings or care: only that the address has (or is asked for) an account.
Each speaks the language of the account it is written to (app/services/language.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models.user import User
from app.services import accounts, language, links
from app.storage import mailer


def _footer() -> str:
    return _("\nIf you did not ask for this, you can ignore this e-mail.\n"
             "For your privacy, MoodLens e-mails never contain medical details.\n")


def send_confirmation(user_id: int) -> str | None:
    user = db.session.get(User, user_id)
    if user is None or user.email_verified_at is not None:
        return None
    link = links.external_url_for("auth.confirm_email", token=accounts.confirmation_token(user))
    with language.speaking_to(user) as spoken:
        body = _("Hello,\n\nPlease confirm that this is your e-mail address for MoodLens:\n\n%(link)s\n\n"
                 "The link works for %(hours)d hours. After that, log in and ask for a new one.",
                 link=link, hours=current_app.config["EMAIL_VERIFY_HOURS"]) + _footer()
        subject = _("MoodLens: confirm your e-mail address")
    return mailer.send_mail(user.email, subject, body, language=spoken)


def send_registration_notice(user_id: int) -> str | None:
    user = db.session.get(User, user_id)
    if user is None:
        return None
    login, forgot = links.external_url_for("auth.login"), links.external_url_for("auth.forgot_password")
    with language.speaking_to(user) as spoken:
        body = _("Hello,\n\nSomeone just tried to create a MoodLens account with this e-mail address, "
                 "which already has one. No new account was made and nothing changed.\n\n"
                 "If it was you, log in here: %(login)s\n"
                 "Forgot your password? Choose a new one here: %(forgot)s\n",
                 login=login, forgot=forgot) + _footer()
        subject = _("MoodLens: someone tried to register with your address")
    return mailer.send_mail(user.email, subject, body, language=spoken)


def send_password_reset(email: str) -> str | None:
    user = accounts.find_user(email)
    if user is None or not user.active:
        return None  # the request answered the same; there is simply no one to write to
    link = links.external_url_for("auth.reset_password", token=accounts.password_reset_token(user))
    with language.speaking_to(user) as spoken:
        body = _("Hello,\n\nYou asked to choose a new MoodLens password. Use this link within %(minutes)d "
                 "minutes; it works once:\n\n%(link)s\n\n"
                 "Choosing a new password logs you out on every device. If you use a second factor, "
                 "you will still need it to log in.",
                 minutes=current_app.config["PASSWORD_RESET_MINUTES"], link=link) + _footer()
        subject = _("MoodLens: choose a new password")
    return mailer.send_mail(user.email, subject, body, language=spoken)


def _security_texts(event: str, when: str) -> tuple[str, str]:
    """(subject, what happened) of a security notice, in the language being spoken."""
    if event == "password_changed":
        return (_("MoodLens: your password was changed"),
                _("The password of your MoodLens account was changed on %(when)s. Every device that was "
                  "logged in has been logged out.", when=when))
    if event == "second_factor_removed":
        return (_("MoodLens: your second factor was reset"),
                _("The second factor (the authenticator app) of your MoodLens account was removed on "
                  "%(when)s, and every device that was logged in has been logged out. A new one is set "
                  "up at the next log-in.", when=when))
    if event == "second_factor_replaced":
        return (_("MoodLens: your second factor was replaced"),
                _("A new second factor (authenticator app) was set up for your MoodLens account on "
                  "%(when)s. Codes from the app used before no longer work.", when=when))
    raise ValueError(f"unknown security event {event!r}")


def send_security_notice(user_id: int, event: str, when_iso: str) -> str | None:
    """Tell the owner of an account that its password or second factor changed, and what to do
    if it was not them. Only confirmed addresses are written to: an unconfirmed one may not be
    the owner's."""
    user = db.session.get(User, user_id)
    if user is None or user.email_verified_at is None:
        return None
    forgot = links.external_url_for("auth.forgot_password")
    when = language.time_for(user, datetime.fromisoformat(when_iso))
    with language.speaking_to(user) as spoken:
        subject, happened = _security_texts(event, when)
        body = (_("Hello,") + "\n\n" + happened + "\n\n"
                + _("If this was you, there is nothing more to do.\n\n"
                    "If it was not you, someone else may be using your account: choose a new password "
                    "at once here: %(forgot)s\n"
                    "and contact the clinic or hospital that offers you MoodLens, so that they can check "
                    "your account.\n\n"
                    "For your privacy, MoodLens e-mails never contain medical details.\n", forgot=forgot))
    return mailer.send_mail(user.email, subject, body, language=spoken)
