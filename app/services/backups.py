"""Backups: one archive with a consistent database snapshot, the encrypted media and the keys.

Media are useless without MEDIA_ENCRYPTION_KEY (and the audit trail cannot be verified without
its key, where one is configured), so the keys travel in the archive: it is as secret as the
keys themselves (written 0600; store it encrypted, off the machine).

- The database snapshot is consistent on its own: SQLite's online backup API, or `pg_dump`
  (one transaction) for PostgreSQL. Media are copied after it, so a file written meanwhile may
  be in the archive without a row; nothing the snapshot references is missing unless it was
  deleted during the backup.
- A restore replaces the database, writes the media back and checks that the keys in use are
  the archive's: a different media or audit key is refused before anything changes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select, text

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.screening import Screening
from app.security import audit, production_secrets
from app.security.media_crypto import media_key, parse_key
from app.storage import media_store

FORMAT = 1
# Keys whose mismatch makes restored data unreadable or unverifiable: refused. A different
# SECRET_KEY only signs everyone out.
MUST_MATCH = {"MEDIA_ENCRYPTION_KEY", "AUDIT_HMAC_KEY"}
INSTANCE_KEY_FILES = {"SECRET_KEY": "secret_key", "MEDIA_ENCRYPTION_KEY": "media.key"}


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    database: str
    media_files: int
    keys: list[str]


@dataclass(frozen=True)
class RestoreSummary:
    database: str
    media_files: int
    audit_events: int
    media_checked: int
    notes: list[str]


# --- keys -------------------------------------------------------------------------------------


def _current_keys() -> dict[str, str]:
    """The keys this deployment uses now, including those generated under instance/."""
    config = current_app.config
    keys = {"SECRET_KEY": config["SECRET_KEY"], "MEDIA_ENCRYPTION_KEY": media_key().hex()}
    for secret in production_secrets.applicable(config):
        if secret.name not in keys and config.get(secret.name):
            keys[secret.name] = str(config[secret.name])
    return keys


def _parse_env(text_: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text_.splitlines() if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _same_key(name: str, ours: str, theirs: str) -> bool:
    if name == "MEDIA_ENCRYPTION_KEY":
        return parse_key(ours) == parse_key(theirs)
    return ours == theirs


def _configured(name: str) -> str | None:
    """The value set for `name` by the deployment; None if unset or generated under instance/."""
    value = current_app.config.get(name)
    key_file = Path(current_app.instance_path) / INSTANCE_KEY_FILES.get(name, "-")
    if not value or (key_file.is_file() and key_file.read_text().strip() == str(value)):
        return None
    return str(value)


def _reconcile_keys(saved: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """(notes, instance key files to write). Raises BackupError for a key that must match."""
    config = current_app.config
    notes, to_write = [], {}
    for name, value in saved.items():
        configured = _configured(name)
        if configured:
            if _same_key(name, str(configured), value):
                notes.append(f"{name}: the configured value matches the backup")
            elif name in MUST_MATCH:
                raise BackupError(
                    f"{name} differs from the backup's: restored data would not be readable. "
                    f"Set {name} to the value in the archive's keys.env and run the restore again.")
            else:
                notes.append(f"{name}: differs from the backup's (sessions signed with the old key end)")
        elif name in INSTANCE_KEY_FILES and config["ENV_NAME"] != "production":
            to_write[INSTANCE_KEY_FILES[name]] = value
            notes.append(f"{name}: restored into instance/{INSTANCE_KEY_FILES[name]}")
        else:
            notes.append(f"{name}: not configured here; set it to the value in the archive's keys.env")
    return notes, to_write


# --- database ---------------------------------------------------------------------------------


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _libpq_env() -> dict[str, str]:
    """Connection settings for pg_dump/pg_restore as libpq variables (no password on a command line)."""
    url = db.engine.url
    env = dict(os.environ)
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                            ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[variable] = str(value)
    return env


def _run(command: list[str]) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    done = subprocess.run([tool, *command[1:]], env=_libpq_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _dump_database(folder: Path) -> tuple[str, Path]:
    if _dialect() == "sqlite":
        target = folder / "database.sqlite"
        source = sqlite3.connect(_sqlite_path())
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)  # the online backup API: a consistent copy while others write
        copy.close()
        source.close()
        return "sqlite", target
    if _dialect() == "postgresql":
        target = folder / "database.pgdump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"])
        return "postgresql", target
    raise BackupError(f"Backups of {_dialect()} databases are not supported.")


def _restore_database(kind: str, dump: Path) -> None:
    if kind != _dialect():
        raise BackupError(f"This backup holds a {kind} database; this deployment uses {_dialect()}.")
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        source = sqlite3.connect(dump)
        target = sqlite3.connect(_sqlite_path())
        with target:
            source.backup(target)
        target.close()
        source.close()
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", f"--dbname={_libpq_env()['PGDATABASE']}", str(dump)])


# --- archive ----------------------------------------------------------------------------------


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def create(path: Path) -> BackupSummary:
    keys = _current_keys()
    root = media_store.media_root()
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="moodlens-backup-") as scratch:
        kind, dump = _dump_database(Path(scratch))
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version")) \
            if db.inspect(db.engine).has_table("alembic_version") else None
        db.session.rollback()
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        media_files = 0
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as archive:
            archive.add(dump, arcname=dump.name)
            for file in sorted(root.rglob("*.enc")):
                archive.add(file, arcname=f"media/{file.relative_to(root).as_posix()}")
                media_files += 1
            _add_bytes(archive, "keys.env", "".join(f"{k}={v}\n" for k, v in keys.items()).encode())
            manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": kind,
                        "database_file": dump.name, "alembic_revision": revision,
                        "media_files": media_files, "keys": sorted(keys)}
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
        partial.replace(path)
    return BackupSummary(path, kind, media_files, sorted(keys))


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(name)
    if member is None:
        raise BackupError(f"The archive has no {name}.")
    return member.read()


def restore(path: Path) -> RestoreSummary:
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    with tarfile.open(path, mode="r") as archive, \
            tempfile.TemporaryDirectory(prefix="moodlens-restore-") as scratch:
        try:
            manifest = json.loads(_read(archive, "manifest.json"))
        except (KeyError, ValueError) as error:
            raise BackupError(f"{path} is not a MoodLens backup.") from error
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unsupported backup format {manifest.get('format')!r}.")
        notes, key_files = _reconcile_keys(_parse_env(_read(archive, "keys.env").decode()))
        dump = Path(scratch) / manifest["database_file"]
        dump.write_bytes(_read(archive, manifest["database_file"]))
        _restore_database(manifest["database"], dump)

        instance = Path(current_app.instance_path)
        for name, value in key_files.items():
            key_file = instance / name
            key_file.write_text(value)
            key_file.chmod(0o600)
        current_app.extensions.pop("moodlens_media_key", None)
        if "secret_key" in key_files:
            current_app.config["SECRET_KEY"] = key_files["secret_key"]

        root = media_store.media_root().resolve()
        media_files = 0
        for member in archive.getmembers():
            if not (member.isfile() and member.name.startswith("media/")):
                continue
            target = (root / member.name[len("media/"):]).resolve()
            if root not in target.parents:
                raise BackupError(f"The archive entry {member.name!r} points outside the media folder.")
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with archive.extractfile(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            target.chmod(0o600)
            media_files += 1
    return _verify(manifest["database"], media_files, notes)


def _verify(kind: str, media_files: int, notes: list[str]) -> RestoreSummary:
    """The audit chain holds and the restored media decrypt with the key in use."""
    broken = audit.verify_chain()
    if broken is not None:
        raise BackupError(
            f"Restored, but the audit chain is broken at event {broken.event_id}: {broken.reason}.")
    events = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    checked = 0
    for media_path in db.session.scalars(
            select(Screening.media_path).where(Screening.media_path.is_not(None)).limit(20)):
        media_store.load(media_path)  # raises MediaDecryptionError with the wrong key
        checked += 1
    return RestoreSummary(kind, media_files, events, checked, notes)
