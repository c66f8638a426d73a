"""Benchmark clips made from a real face photo (scikit-image's astronaut).

`easy_clip`: the head drifts a few pixels per frame on a flat background (the old benchmark).
`webcam_clip`: moves like a person in front of a webcam — head turns of ±25° (a perspective
warp: the far side of the face narrows and shortens), zooming in and out as they lean in and
back, a lighting drop, a hand passing over the face for half a second, and a second face
entering for two seconds. The events' times are in `WEBCAM_EVENTS` so reports can name them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from tests.samples import encode_clip  # the bench scripts put the repository on sys.path

SIZE = (640, 480)
FPS = 30
SECONDS = 10
# (start s, end s) of each event in the webcam-like clip.
WEBCAM_EVENTS = {"hand over the face": (3.0, 3.5), "lighting drop": (5.0, 6.5), "second face": (7.0, 9.0)}


def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def _write(path: Path, frames) -> Path:
    return encode_clip(path, frames, FPS)


def easy_clip(path: Path, seconds: int = SECONDS) -> Path:
    head = astronaut().crop((120, 0, 340, 230)).resize((300, 314))

    def frames():
        for i in range(seconds * FPS):
            frame = Image.new("RGB", SIZE, (70, 80, 90))
            frame.paste(head, (170 + int(12 * np.sin(i / 15)), 80 + int(6 * np.cos(i / 20))))
            yield frame

    return _write(path, frames())


def _perspective_coefficients(source: list[tuple[float, float]], target: list[tuple[float, float]]):
    """PIL PERSPECTIVE coefficients mapping output corners `target` back to input corners `source`."""
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return np.linalg.solve(np.array(rows, float), np.array(source, float).reshape(8)).tolist()


def _turned(head: Image.Image, yaw_degrees: float) -> Image.Image:
    """The head turned about a vertical axis: one side narrows and shortens (RGBA, clear outside)."""
    width, height = head.size
    yaw = math.radians(yaw_degrees)
    squeeze = math.cos(yaw)
    shrink = 0.12 * math.sin(abs(yaw)) * height  # the far edge looks shorter
    new_width = width * squeeze
    left_shrink, right_shrink = (shrink, 0.0) if yaw > 0 else (0.0, shrink)
    offset = (width - new_width) / 2 + 0.18 * width * math.sin(yaw)  # the face slides towards the turn
    target = [
        (offset, left_shrink),
        (offset + new_width, right_shrink),
        (offset + new_width, height - right_shrink),
        (offset, height - left_shrink),
    ]
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    rgba = head.convert("RGBA")
    return rgba.transform(
        head.size, Image.PERSPECTIVE, _perspective_coefficients(source, target), Image.BILINEAR
    )


def _background(rng: np.random.Generator) -> Image.Image:
    """A room-like backdrop: a vertical gradient, a 'door' and a 'shelf', a little texture."""
    y = np.linspace(0, 1, SIZE[1])[:, None, None]
    base = (np.array([96, 92, 84]) * (1 - y) + np.array([60, 58, 66]) * y) * np.ones((1, SIZE[0], 1))
    base[60:420, 40:150] = [120, 100, 80]
    base[120:135, 470:620] = [90, 70, 50]
    base += rng.normal(0, 3, base.shape)
    return Image.fromarray(base.clip(0, 255).astype(np.uint8))


def _hand(size: int) -> Image.Image:
    """A skin-toned palm with four fingers, blurred at the edges like motion blur."""
    hand = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(hand)
    skin = (214, 170, 140, 255)
    draw.ellipse((size * 0.15, size * 0.40, size * 0.85, size * 0.98), fill=skin)
    for i in range(4):
        x = size * (0.18 + 0.17 * i)
        draw.rounded_rectangle((x, size * 0.02 + 12 * abs(i - 1.5), x + size * 0.14, size * 0.6),
                               radius=size * 0.07, fill=skin)
    return hand.filter(ImageFilter.GaussianBlur(3))


def webcam_clip(path: Path, seconds: int = SECONDS, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    photo = astronaut()
    head = photo.crop((120, 0, 340, 230)).resize((240, 251))
    second = photo.crop((150, 30, 310, 200)).resize((120, 128)).transpose(Image.FLIP_LEFT_RIGHT)
    background = _background(rng)
    hand = _hand(230)

    def frames():
        for i in range(seconds * FPS):
            t = i / FPS
            frame = background.copy()
            yaw = 25 * math.sin(2 * math.pi * t / 4)  # a full left-right turn every 4 s
            zoom = 1 + 0.3 * math.sin(2 * math.pi * t / 6 + 1)  # leaning in and back
            turned = _turned(head, yaw)
            size = (round(turned.width * zoom), round(turned.height * zoom))
            turned = turned.resize(size, Image.BILINEAR)
            centre = (320 + 25 * math.sin(t * 1.3), 235 + 12 * math.sin(t * 0.9))
            position = (round(centre[0] - size[0] / 2), round(centre[1] - size[1] / 2))
            frame.paste(turned, position, turned)
            start, end = WEBCAM_EVENTS["second face"]
            if start <= t < end:
                # Walks in from the right edge, stays, and leaves.
                progress = min(1.0, (t - start) / 0.5, (end - t) / 0.5)
                frame.paste(second, (round(640 - 150 * progress), 60))
            start, end = WEBCAM_EVENTS["hand over the face"]
            if start <= t < end:
                x = round(-230 + (640 + 230) * (t - start) / (end - start))
                frame.paste(hand, (x, position[1] + 20), hand)
            start, end = WEBCAM_EVENTS["lighting drop"]
            if start <= t < end:
                light = 1 - 0.6 * min(1.0, (t - start) / 0.3, (end - t) / 0.3)
                frame = ImageEnhance.Brightness(frame).enhance(light)
            # Sensor noise, as a webcam in a dim room has.
            noisy = np.asarray(frame, np.int16) + rng.integers(-4, 5, (SIZE[1], SIZE[0], 1))
            yield Image.fromarray(noisy.clip(0, 255).astype(np.uint8))

    return _write(path, frames())


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "webcam.webm")
    webcam_clip(target)
    print(target)
