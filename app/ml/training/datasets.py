"""The two common FER2013 forms, read into 48×48 greyscale uint8 arrays.

- image folders: DIR/train/<class>/*.png and DIR/test/<class>/*.png (Kaggle's release);
- CSV: DIR/fer2013.csv (or the file itself) with columns emotion,pixels,Usage, where
  Usage "Training" is the training split and "PublicTest"/"PrivateTest" the test split.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from app.plugins.base import FER_LABELS

FER_SIZE = 48
_TEST_USAGE = {"PublicTest", "PrivateTest"}


class DatasetError(ValueError):
    """The data directory is not in a form we read."""


@dataclass(frozen=True)
class FaceDataset:
    images: np.ndarray  # (n, 48, 48) uint8
    labels: np.ndarray  # (n,) int, indexes into FER_LABELS
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(FER_LABELS))
        return {name: int(count) for name, count in zip(FER_LABELS, counts, strict=True)}


def load_fer2013(path: str | Path) -> tuple[FaceDataset, FaceDataset]:
    """(train, test) from either form, detected from what is on disk."""
    path = Path(path)
    csv_file = path if path.is_file() else path / "fer2013.csv"
    if csv_file.is_file():
        return _from_csv(csv_file)
    if (path / "train").is_dir() and (path / "test").is_dir():
        return _from_folder(path / "train"), _from_folder(path / "test")
    raise DatasetError(f"{path} holds neither fer2013.csv nor train/ and test/ folders")


def _from_folder(folder: Path) -> FaceDataset:
    images, labels = [], []
    for index, label in enumerate(FER_LABELS):
        class_dir = folder / label
        if not class_dir.is_dir():
            continue
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in {".png", ".jpg", ".jpeg", ".bmp"}:
                continue
            with Image.open(file) as image:
                grey = image.convert("L")
                if grey.size != (FER_SIZE, FER_SIZE):
                    grey = grey.resize((FER_SIZE, FER_SIZE), Image.BILINEAR)
                images.append(np.asarray(grey, dtype=np.uint8))
            labels.append(index)
    if not images:
        raise DatasetError(f"No images in {folder}/<{'|'.join(FER_LABELS)}>/")
    return FaceDataset(np.stack(images), np.array(labels, np.int64), str(folder))


def _from_csv(csv_file: Path) -> tuple[FaceDataset, FaceDataset]:
    splits: dict[bool, tuple[list, list]] = {False: ([], []), True: ([], [])}
    with csv_file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{csv_file} lacks columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            pixels = np.array(row["pixels"].split(), dtype=np.uint8)
            if pixels.size != FER_SIZE * FER_SIZE:
                raise DatasetError(
                    f"{csv_file}:{line}: expected {FER_SIZE * FER_SIZE} pixels, got {pixels.size}"
                )
            images, labels = splits[row["Usage"] in _TEST_USAGE]
            images.append(pixels.reshape(FER_SIZE, FER_SIZE))
            labels.append(int(row["emotion"]))
    result = []
    for is_test in (False, True):
        images, labels = splits[is_test]
        if not images:
            raise DatasetError(f"{csv_file} has no {'test' if is_test else 'training'} rows")
        result.append(
            FaceDataset(
                np.stack(images), np.array(labels, np.int64), f"{csv_file} ({'test' if is_test else 'train'})"
            )
        )
    return result[0], result[1]
