"""Small generated data sets in FER2013's two forms (no FER2013 reaches these machines)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image

from app.plugins.base import FER_LABELS


def fer_csv_text(per_class_train: int = 3, per_class_test: int = 1, seed: int = 0) -> str:
    """A Kaggle-format fer2013.csv: emotion,pixels,Usage; each class a different brightness."""
    rng = np.random.default_rng(seed)
    lines = ["emotion,pixels,Usage"]
    for usage, count in (("Training", per_class_train), ("PublicTest", per_class_test)):
        for label in range(len(FER_LABELS)):
            for _ in range(count):
                pixels = np.clip(rng.normal(30 + 30 * label, 20, 48 * 48), 0, 255).astype(int)
                lines.append(f"{label},{' '.join(map(str, pixels))},{usage}")
    return "\n".join(lines) + "\n"


def png_bytes(value: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((48, 48), value, np.uint8)).save(out, format="PNG")
    return out.getvalue()


def fer_zip_bytes(per_class: int = 2, extra: dict[str, bytes] | None = None) -> bytes:
    """train/<class>/*.png and test/<class>/*.png, plus any extra members."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for split in ("train", "test"):
            for index, label in enumerate(FER_LABELS):
                for n in range(per_class):
                    bundle.writestr(f"{split}/{label}/{n}.png", png_bytes(30 * index + n))
        for name, data in (extra or {}).items():
            bundle.writestr(name, data)
    return out.getvalue()
