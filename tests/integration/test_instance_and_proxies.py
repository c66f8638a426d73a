"""instance/ is private to the service account; X-Forwarded-For counts only when configured."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import select

from app import create_app, embedded_redis
from app.extensions import db
from app.models import AuditEvent
from app.storage import mailer, media_store
from tests.helpers import csrf_token, make_config


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.is_socket() or path.is_symlink():
            continue
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_instance_folder_and_everything_created_in_it_is_private(tmp_path, redis_url):
    instance = tmp_path / "instance"
    previous = os.umask(0o022)  # a typical shell's umask: 0644 files, 0755 folders
    try:
        config = make_config(tmp_path, redis_url, SECRET_KEY=None, ENV_NAME="development",
                             SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'moodlens.db'}")
        app = create_app(config)
        with app.app_context():
            db.create_all()
            media_store.save(b"photo bytes", "screenings", ".jpg")
            mailer.send_mail("someone@example.org", "Subject", "Body")
            embedded_redis.ensure_running(instance)
            try:
                redis_lib.Redis(unix_socket_path=str(embedded_redis.socket_path(instance))).set("k", "v")
                modes = _modes(instance)
            finally:
                embedded_redis.shutdown(instance)
            db.engine.dispose()
    finally:
        os.umask(previous)
    assert {"moodlens.db", "secret_key", "media", "mail", "redis"} <= {name.split("/")[0] for name in modes}
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (instance / name).is_dir() else 0o600)}
    assert wrong == {}, f"not private: {wrong}"


def test_an_existing_world_readable_instance_is_tightened(tmp_path, redis_url):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    database = instance / "moodlens.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    create_app(make_config(tmp_path, redis_url))
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def _failed_logins(app, forwarded_for: list[str]) -> list[int]:
    client = app.test_client()
    token = csrf_token(client)
    return [client.post("/auth/login", headers={"X-Forwarded-For": ip},
                        data={"email": f"user{i}@example.org", "password": "whatever it is",
                              "csrf_token": token}).status_code
            for i, ip in enumerate(forwarded_for)]


@pytest.mark.parametrize("hops, expected_statuses, expected_ip", [
    (0, [401, 401, 429], "127.0.0.1"),          # the header is ignored: one shared budget
    (1, [401, 401, 401], "203.0.113.9"),        # each client has its own budget
])
def test_forwarded_for_counts_only_with_trusted_proxies(app_factory, redis_url, hops, expected_statuses,
                                                        expected_ip):
    redis_lib.Redis.from_url(redis_url).flushdb()
    app = app_factory(TRUSTED_PROXIES=hops, LOGIN_RATE_LIMIT_PER_IP="2 per minute")
    with app.app_context():
        statuses = _failed_logins(app, ["198.51.100.7", "198.51.100.7", "203.0.113.9"])
        assert statuses == expected_statuses
        if hops:
            last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert last.action == "auth.login_failed" and last.ip == expected_ip
        else:
            assert {event.ip for event in db.session.scalars(select(AuditEvent))} == {"127.0.0.1"}


def test_only_the_configured_number_of_hops_is_trusted(app_factory, redis_url):
    redis_lib.Redis.from_url(redis_url).flushdb()
    app = app_factory(TRUSTED_PROXIES=1)
    with app.app_context():
        # A client forging an extra address in front: only the hop our proxy added counts.
        _failed_logins(app, ["6.6.6.6, 203.0.113.9"])
        event = db.session.scalars(select(AuditEvent)).one()
        assert event.ip == "203.0.113.9"
