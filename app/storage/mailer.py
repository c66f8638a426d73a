"""Sending e-mail: SMTP from config, or, in the embedded default, .eml files under instance/mail/.

Only RQ jobs call this (never a request): a slow or absent mail server must not slow a page.
"""

from __future__ import annotations

import smtplib
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

from app.observability import metrics


def mail_dir() -> Path:
    configured = current_app.config.get("MAIL_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail"


def build_message(to: str, subject: str, body: str, language: str = "en") -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="moodlens.local")
    message.set_content(body)
    # After set_content, which replaces every Content-* header: the recipient's language, as the
    # text is (app/services/language.py).
    message["Content-Language"] = language
    return message


def send_mail(to: str, subject: str, body: str, language: str = "en") -> str:
    """Send one plain-text mail; returns where it went ("smtp" or the .eml path)."""
    transport = "smtp" if current_app.config.get("SMTP_HOST") else "file"
    try:
        where = _send(build_message(to, subject, body, language))
    except Exception:
        metrics.EMAILS_FAILED.labels(transport).inc()
        raise
    metrics.EMAILS_SENT.labels(transport).inc()
    return where


def _send(message: EmailMessage) -> str:
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(message))
        return str(path)
    smtp_class = smtplib.SMTP_SSL if config.get("SMTP_SSL") else smtplib.SMTP
    with smtp_class(host, config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
    return "smtp"


def discard_local_mail_to(address: str) -> int:
    """Remove the .eml files written (without an SMTP server) to `address`; returns how many.

    Used when an account is deleted: e-mails carry no clinical content, but the address itself
    is personal data.
    """
    folder = mail_dir()
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.glob("*.eml"):
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle, headersonly=True)
        if (message.get("To") or "").strip().lower() == address.strip().lower():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
