"""Training data uploaded by an admin, checked and unpacked into its own new folder.

Uploads are streamed to disk in chunks (a 500 MB FER2013 never sits in memory) and checked
before anything trains on them: a CSV for its columns, labels and pixel strings, a zip for
path traversal, links, bombs and its folder-per-class layout. A refused upload leaves nothing
behind; trained model versions are never touched either way.
"""

from __future__ import annotations

import csv
import shutil
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from app.ml.training.datasets import FER_SIZE
from app.plugins.base import FER_LABELS

CHUNK = 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
# A real image compresses at most a few times over; far beyond that a member is a bomb.
MAX_COMPRESSION_RATIO = 100
_USAGES = {"Training", "PublicTest", "PrivateTest"}


class UploadError(ValueError):
    """The upload is refused; `str(error)` says why, `status` is the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def save_stream(stream, destination: Path, limit: int) -> int:
    """Copy a file-like stream to destination in chunks; 413 past `limit` bytes."""
    written = 0
    with destination.open("wb") as out:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise UploadError(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.", 413)
            out.write(chunk)
    if not written:
        raise UploadError("The file is empty.")
    return written


def check_fer_csv(path: Path) -> int:
    """Rows in a Kaggle fer2013.csv, read line by line; UploadError at the first bad one."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
            if missing:
                raise UploadError(
                    f"The CSV lacks the column(s) {', '.join(sorted(missing))}; "
                    "Kaggle's fer2013.csv has emotion,pixels,Usage."
                )
            splits = set()
            rows = 0
            for line, row in enumerate(reader, start=2):
                emotion = (row["emotion"] or "").strip()
                if not (emotion.isdigit() and int(emotion) < len(FER_LABELS)):
                    raise UploadError(
                        f"Line {line}: unknown label {emotion[:20]!r}; expected 0–{len(FER_LABELS) - 1}."
                    )
                pixels = (row["pixels"] or "").split()
                if len(pixels) != FER_SIZE * FER_SIZE or not all(
                    p.isdigit() and int(p) < 256 for p in pixels
                ):
                    raise UploadError(
                        f"Line {line}: expected {FER_SIZE * FER_SIZE} pixel values 0–255, got {len(pixels)}."
                    )
                if row["Usage"] not in _USAGES:
                    raise UploadError(f"Line {line}: Usage must be one of {', '.join(sorted(_USAGES))}.")
                splits.add("test" if row["Usage"] != "Training" else "train")
                rows += 1
    except UnicodeDecodeError as exc:
        raise UploadError("The CSV is not UTF-8 text.") from exc
    except csv.Error as exc:
        raise UploadError(f"The CSV cannot be read: {exc}.") from exc
    if splits != {"train", "test"}:
        raise UploadError("The CSV needs both Training rows and PublicTest/PrivateTest rows.")
    return rows


def _member_target(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """split/label/file for an image member, None for folders and stray files; refuses traversal."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise UploadError(f"The zip holds an unsafe path ({name[:80]!r}); nothing was extracted.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadError(f"The zip holds a link ({name[:80]!r}); nothing was extracted.")
    if info.is_dir() or PurePosixPath(name).suffix.lower() not in IMAGE_SUFFIXES:
        return None
    if parts[0] not in ("train", "test") and len(parts) == 4:
        parts = parts[1:]  # one enclosing folder, as when a folder is zipped
    if len(parts) != 3 or parts[0] not in ("train", "test"):
        raise UploadError(
            f"{name[:80]!r} is not in train/<class>/ or test/<class>/; "
            f"the classes are {', '.join(FER_LABELS)}."
        )
    if parts[1] not in FER_LABELS:
        raise UploadError(f"Unknown class folder {parts[1][:40]!r}; the classes are {', '.join(FER_LABELS)}.")
    return PurePosixPath(*parts)


def extract_fer_zip(archive: Path, destination: Path, limit: int) -> int:
    """Unpack a folder-per-class zip into destination; images extracted, or UploadError."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [(info, _member_target(info)) for info in bundle.infolist()]
            members = [(info, target) for info, target in members if target is not None]
            declared = sum(info.file_size for info, _ in members)
            for info, _ in members:
                if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                    raise UploadError("The zip looks like a zip bomb (a member expands over 100-fold).", 413)
            if declared > limit:
                raise UploadError("The zip expands past the upload limit.", 413)
            if {target.parts[0] for _, target in members} != {"train", "test"}:
                raise UploadError("The zip needs images under both train/<class>/ and test/<class>/.")
            budget = limit
            for info, target in members:
                out_path = destination / target
                out_path.parent.mkdir(parents=True, exist_ok=True)
                # Declared sizes can lie: count what really comes out.
                with bundle.open(info) as source, out_path.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            raise UploadError("The zip expands past the upload limit.", 413)
                        out.write(chunk)
            return len(members)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise UploadError("The file is not a readable zip archive.") from exc
    except (NotImplementedError, RuntimeError) as exc:  # unsupported compression, encryption
        raise UploadError(f"The zip cannot be unpacked here: {exc}.") from exc


def receive_upload(stream, filename: str, data_root: Path, limit: int) -> Path:
    """Save and check an upload into a new folder under data_root; returns the folder."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".csv", ".zip"):
        raise UploadError("Upload Kaggle's fer2013.csv or a .zip of train/ and test/ class folders.")
    folder = data_root / f"upload-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}"
    folder.mkdir(parents=True)
    try:
        if suffix == ".csv":
            save_stream(stream, folder / "fer2013.csv", limit)
            check_fer_csv(folder / "fer2013.csv")
        else:
            archive = folder / "upload.zip"
            save_stream(stream, archive, limit)
            extract_fer_zip(archive, folder, limit)
            archive.unlink()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def server_datasets(data_root: Path) -> list[str]:
    """Names of the data sets under data_root in a form the trainer reads."""
    if not data_root.is_dir():
        return []
    names = []
    for entry in sorted(data_root.iterdir()):
        if entry.is_file() and entry.suffix.lower() == ".csv":
            names.append(entry.name)
        elif entry.is_dir() and (
            (entry / "fer2013.csv").is_file() or ((entry / "train").is_dir() and (entry / "test").is_dir())
        ):
            names.append(entry.name)
    return names
