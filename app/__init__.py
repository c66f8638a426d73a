"""The MoodLens application factory."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from flask import Flask

from config import Config, check_environment, config_from_env


def create_app(config_class: type[Config] | None = None) -> Flask:
    check_environment()  # before anything is created: a malformed variable stops the start
    config_class = config_class or config_from_env()
    app = Flask(__name__, instance_path=str(config_class.INSTANCE_PATH))
    app.config.from_object(config_class)
    check_production_secrets(app)
    configure_instance(app)
    configure_proxies(app)
    register_observability(app)
    register_extensions(app)
    register_plugins(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_cli(app)
    return app


def configure_instance(app: Flask) -> None:
    """Create instance/ and fill in the secrets an embedded set-up may generate for itself."""
    # instance/ holds health data (SQLite), keys, the embedded Redis, media and mail: only the
    # service account may read it. The umask makes every file this process (and the embedded
    # Redis it starts) creates 0600 and every folder 0700, wherever MEDIA_DIR/MAIL_DIR point.
    os.umask(0o077)
    instance = Path(app.instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    instance.chmod(0o700)  # also tightens an instance/ (and its database, keys) from an older version
    for path in instance.iterdir():
        if path.is_file() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
    if not app.config.get("SECRET_KEY") and app.config["ENV_NAME"] != "production":
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()


def configure_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from exactly TRUSTED_PROXIES reverse proxies (0: none), so the
    per-IP limits and the audit trail see the client, not the load balancer."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def check_production_secrets(app: Flask) -> None:
    """Production refuses to start without its secrets (app/security/production_secrets.py) —
    except for `flask keys ...`, the command that prints them."""
    from app.security import production_secrets

    if app.config["ENV_NAME"] == "production" and _flask_cli_command() != "keys":
        production_secrets.require(app.config)


def _flask_cli_command() -> str | None:
    """The sub-command of a `flask [--app X] <command> ...` process, else None."""
    if os.path.basename(sys.argv[0]) != "flask":
        return None
    arguments = iter(sys.argv[1:])
    for argument in arguments:
        if argument in {"--app", "-A", "--env-file", "-e"}:
            next(arguments, None)  # the option's value
        elif not argument.startswith("-"):
            return argument
    return None


def register_observability(app: Flask) -> None:
    from app import observability

    observability.register(app)


def register_extensions(app: Flask) -> None:
    import redis
    from flask_babel import gettext

    from app import embedded_redis
    from app.extensions import csrf, db, limiter, login_manager
    from app.i18n.marker import N_

    if not app.config.get("REDIS_URL"):
        # Started on first use (get_redis, first request), so `flask db upgrade` and other
        # one-off commands leave no server behind.
        app.config["REDIS_URL"] = embedded_redis.url_for(app.config["INSTANCE_PATH"])
        app.config["EMBEDDED_REDIS"] = True
        app.before_request(lambda: embedded_redis.ensure_started_once(app.config["INSTANCE_PATH"]))
    app.extensions["moodlens_redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limits_storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from app.web import i18n

    i18n.register(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please log in to continue.")
    login_manager.localize_callback = gettext  # in the reader's language, when it is flashed
    login_manager.login_message_category = "info"

    from app import models  # noqa: F401  (registers every model with the metadata)

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<id>:<session token>": a rotated token (logout everywhere) invalidates old cookies.
        user_id, _, token = session_id.partition(":")
        user = db.session.get(models.User, int(user_id)) if user_id.isdigit() else None
        if user is None or not secrets.compare_digest(user.session_token, token):
            return None
        return user


def _limits_storage_uri(redis_url: str) -> str:
    # The `limits` library spells a Unix-socket Redis as redis+unix://.
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def register_plugins(app: Flask) -> None:
    from app.plugins.registry import register_plugins as find_plugins

    find_plugins(app)


def register_blueprints(app: Flask) -> None:
    from app.blueprints.account import bp as account_bp
    from app.blueprints.admin import bp as admin_bp
    from app.blueprints.api import bp as api_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.caseload import bp as caseload_bp
    from app.blueprints.consultations import bp as consultations_bp
    from app.blueprints.fhir import bp as fhir_bp
    from app.blueprints.home import bp as home_bp
    from app.blueprints.ops import bp as ops_bp
    from app.blueprints.preferences import bp as preferences_bp
    from app.blueprints.reports import bp as reports_bp
    from app.blueprints.screening import bp as screening_bp
    from app.blueprints.sso import bp as sso_bp
    from app.blueprints.sso import client as sso_client
    from app.blueprints.tokens import bp as tokens_bp
    from app.web.converters import register as register_converters
    from app.web.navigation import register as register_navigation

    register_converters(app)  # before the first rule: bounded <int:...> ids everywhere
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(screening_bp)  # /screenings/... and /api/v1/screenings/...
    app.register_blueprint(consultations_bp)  # /doctors, /consultations/..., /notifications
    app.register_blueprint(reports_bp)  # /reports/..., /patient/history
    app.register_blueprint(account_bp)  # /account: privacy page, data export, account deletion
    app.register_blueprint(caseload_bp)  # /doctor/caseload..., /consultations/<id>/prompts
    app.register_blueprint(ops_bp)  # /healthz, /readyz, /metrics for the operators' tools
    app.register_blueprint(api_bp)  # /api/v1/reports/...
    app.register_blueprint(fhir_bp)  # /fhir/..., /consultations/<id>/fhir-bundle.json
    app.register_blueprint(sso_bp)  # /sso/...: hospital sign-in, when OIDC_ISSUER is set
    sso_client.register(app)
    app.register_blueprint(tokens_bp)  # /account/api-tokens, /admin/integrations
    app.register_blueprint(preferences_bp)  # /language (the footer switch), /preferences/timezone
    register_navigation(app)


def register_errorhandlers(app: Flask) -> None:
    from app.web.errors import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from app.security import headers
    from app.web import bearer, session_rules

    headers.register(app)
    session_rules.register(app)
    bearer.register(app)  # after the session rules: a bearer request has no session


def register_cli(app: Flask) -> None:
    from app.commands import register

    register(app)
