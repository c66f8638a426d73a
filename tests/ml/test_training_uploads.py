"""Uploaded training data: streamed to disk, checked, and refused with a clear reason."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.ml.training.datasets import load_fer2013
from app.ml.training.uploads import UploadError, receive_upload, server_datasets
from tests.ml.fer_fixtures import fer_csv_text, fer_zip_bytes

LIMIT = 5 * 1024 * 1024


def upload(tmp_path, data: bytes, name: str, limit: int = LIMIT):
    return receive_upload(io.BytesIO(data), name, tmp_path / "data", limit)


def test_csv_upload_is_saved_and_loads(tmp_path):
    folder = upload(tmp_path, fer_csv_text().encode(), "fer2013.csv")
    train, test = load_fer2013(folder)
    assert len(train) == 21 and len(test) == 7
    assert server_datasets(tmp_path / "data") == [folder.name]


def test_zip_upload_is_extracted_and_loads(tmp_path):
    folder = upload(tmp_path, fer_zip_bytes(), "faces.zip")
    train, test = load_fer2013(folder)
    assert len(train) == 14 and len(test) == 14
    assert not (folder / "upload.zip").exists()


def test_zip_of_an_enclosing_folder_is_accepted(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(fer_zip_bytes())) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr("fer2013/" + info.filename, source.read(info))
    folder = upload(tmp_path, out.getvalue(), "faces.zip")
    assert len(load_fer2013(folder)[0]) == 14


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("emotion,pixels\n0,1 2 3\n", "lacks the column(s) Usage"),
        ("emotion,pixels,Usage\n0,1 2 3,Training\n", "expected 2304 pixel values 0–255, got 3"),
        ("emotion,pixels,Usage\n9," + " ".join(["0"] * 2304) + ",Training\n", "unknown label '9'"),
        ("emotion,pixels,Usage\n0," + " ".join(["0"] * 2304) + ",Training\n", "both Training rows"),
        ("emotion,pixels,Usage\n0," + " ".join(["300"] * 2304) + ",Training\n", "pixel values 0–255"),
    ],
)
def test_bad_csv_is_refused_and_leaves_nothing(tmp_path, text, message):
    with pytest.raises(UploadError) as refused:
        upload(tmp_path, text.encode(), "fer2013.csv")
    assert message in str(refused.value)
    assert refused.value.status == 400
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"../evil.png": b"x"}, "unsafe path"),
        ({"train/../../evil.png": b"x"}, "unsafe path"),
        ({"/etc/evil.png": b"x"}, "unsafe path"),
        ({"train/contempt/1.png": b"x"}, "Unknown class folder 'contempt'"),
        ({"faces/1.png": b"x"}, "not in train/<class>/"),
    ],
)
def test_bad_zip_is_refused_and_extracts_nothing(tmp_path, extra, message):
    with pytest.raises(UploadError) as refused:
        upload(tmp_path, fer_zip_bytes(extra=extra), "faces.zip")
    assert message in str(refused.value)
    assert list((tmp_path / "data").iterdir()) == []
    assert not (tmp_path / "evil.png").exists()


def test_zip_bomb_is_refused(tmp_path):
    bomb = fer_zip_bytes(extra={"train/happy/bomb.png": b"\0" * (4 * 1024 * 1024)})
    with pytest.raises(UploadError, match="zip bomb") as refused:
        upload(tmp_path, bomb, "faces.zip")
    assert refused.value.status == 413
    assert list((tmp_path / "data").iterdir()) == []


def test_upload_past_the_limit_is_refused_with_413(tmp_path):
    with pytest.raises(UploadError, match="larger than the limit") as refused:
        upload(tmp_path, fer_csv_text().encode(), "fer2013.csv", limit=1000)
    assert refused.value.status == 413


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"not a zip at all", "faces.zip", "not a readable zip"),
    (b"hello", "faces.tar", "Upload Kaggle's fer2013.csv"),
    (b"", "fer2013.csv", "empty"),
])
def test_other_bad_uploads(tmp_path, data, name, message):
    with pytest.raises(UploadError) as refused:
        upload(tmp_path, data, name)
    assert message in str(refused.value)
