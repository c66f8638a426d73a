"""A photo or clip the patient chose for a screening whose form came back with an error.

Without JavaScript a browser forgets the chosen file when the page is shown again, so the
server keeps it: encrypted like all media, in the patient's own media folder (deleting the
account deletes it), named by a random token that only that patient's resubmission can use,
and for `HELD_UPLOAD_SECONDS` at most (the sweep deletes what is left after that)."""

from __future__ import annotations

import re
import time
from pathlib import PurePosixPath, PureWindowsPath

from flask import current_app

from app.storage import media_store

_TOKEN = re.compile(r"[0-9a-f]{32}")
_SUFFIX = ".upload"
_NAME_MAX = 120


def _folder(patient_id: int) -> str:
    return f"{media_store.patient_media_folder(patient_id)}/held"


def _path(patient_id: int, token: str | None) -> str | None:
    if not token or not _TOKEN.fullmatch(token):
        return None
    return f"{_folder(patient_id)}/{token}{_SUFFIX}.enc"


def _display_name(filename: str | None) -> str:
    """The file's own name, as the patient's device gave it, for "your photo x is kept"."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name  # any folder part removed
    return "".join(ch for ch in name if ch.isprintable())[:_NAME_MAX] or "(no name)"


def _expired(modified: float) -> bool:
    return time.time() - modified > current_app.config["HELD_UPLOAD_SECONDS"]


def hold(patient_id: int, data: bytes, filename: str | None) -> str:
    """Keep `data` for the patient's next submission; returns its token."""
    name = _display_name(filename).encode()
    relative = media_store.save(name + b"\n" + data, _folder(patient_id), _SUFFIX)
    return PurePosixPath(relative).name.split(".")[0]


def load(patient_id: int, token: str | None) -> tuple[bytes, str] | None:
    """(bytes, file name) of the patient's held upload, or None if there is none by that token
    (never was, someone else's, used, or expired)."""
    relative = _path(patient_id, token)
    modified = media_store.modified_at(relative) if relative else None
    if modified is None:
        return None
    if _expired(modified):
        media_store.delete(relative)
        return None
    name, _, data = media_store.load(relative).partition(b"\n")
    return data, name.decode()


def discard(patient_id: int, token: str | None) -> None:
    media_store.delete(_path(patient_id, token))


def discard_expired() -> int:
    """Delete every held upload older than `HELD_UPLOAD_SECONDS`; how many went."""
    gone = 0
    for relative in media_store.find(f"{media_store.patient_media_folder('*')}/held/*{_SUFFIX}.enc"):
        modified = media_store.modified_at(relative)
        if modified is not None and _expired(modified):
            media_store.delete(relative)
            gone += 1
    return gone
