"""A synthetic FER2013 look-alike: drawn faces whose brows and mouth encode the class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from app.plugins.base import FER_LABELS


def draw_face(label: str, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A drawn face whose brows and mouth encode the class, with random pose and noise."""
    image = Image.new("L", (size, size), int(rng.integers(20, 60)))
    draw = ImageDraw.Draw(image)
    dx, dy = rng.integers(-3, 4, size=2)
    skin = int(rng.integers(150, 210))
    draw.ellipse((6 + dx, 4 + dy, 42 + dx, 46 + dy), fill=skin)
    ink = int(rng.integers(0, 50))
    for ex in (17, 31):
        draw.ellipse((ex - 2 + dx, 18 + dy, ex + 2 + dx, 22 + dy), fill=ink)
    # Brows: (inner height, outer height) relative to the eyes.
    brows = {"angry": (15, 11), "sad": (11, 15), "fear": (9, 12), "surprise": (8, 8)}.get(label, (13, 13))
    inner, outer = brows
    draw.line((12 + dx, outer + dy, 20 + dx, inner + dy), fill=ink, width=2)
    draw.line((28 + dx, inner + dy, 36 + dx, outer + dy), fill=ink, width=2)
    mx, my = 24 + dx, 35 + dy
    if label == "happy":
        draw.arc((mx - 9, my - 8, mx + 9, my + 4), 20, 160, fill=ink, width=2)
    elif label == "sad":
        draw.arc((mx - 9, my - 2, mx + 9, my + 10), 200, 340, fill=ink, width=2)
    elif label == "surprise":
        draw.ellipse((mx - 5, my - 5, mx + 5, my + 6), fill=ink)
    elif label == "fear":
        draw.rectangle((mx - 7, my - 2, mx + 7, my + 2), fill=ink)
    elif label == "disgust":
        draw.line((mx - 8, my + 2, mx - 2, my - 3, mx + 3, my + 2, mx + 8, my - 3), fill=ink, width=2)
    elif label == "angry":
        draw.line((mx - 8, my + 1, mx + 8, my + 1), fill=ink, width=3)
    else:  # neutral
        draw.line((mx - 7, my, mx + 7, my), fill=ink, width=1)
    pixels = np.asarray(image, dtype=np.float64) + rng.normal(0, 6, (size, size))
    return pixels.clip(0, 255).astype(np.uint8)


def synthetic_split(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(FER_LABELS)), per_class)
    return np.stack([draw_face(FER_LABELS[i], rng) for i in labels]), labels


def write_image_folders(root: Path, per_class: tuple[int, int] = (40, 12)) -> Path:
    for split, count, seed in (("train", per_class[0], 1), ("test", per_class[1], 2)):
        images, labels = synthetic_split(count, seed)
        for n, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / FER_LABELS[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{n:05d}.png")
    return root


def write_csv(root: Path, per_class: tuple[int, int] = (40, 12)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["emotion,pixels,Usage"]
    for usage, count, seed in (("Training", per_class[0], 3), ("PublicTest", per_class[1], 4)):
        images, labels = synthetic_split(count, seed)
        lines += [
            f"{label},{' '.join(map(str, image.ravel()))},{usage}"
            for image, label in zip(images, labels, strict=True)
        ]
    (root / "fer2013.csv").write_text("\n".join(lines) + "\n")
    return root
