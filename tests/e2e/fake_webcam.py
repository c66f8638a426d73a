"""A Y4M video for Chromium's fake webcam (`--use-file-for-fake-video-capture`), made from a photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_y4m(photo: Image.Image, path: Path, width: int = 640, height: int = 480, frames: int = 30,
              fps: int = 30) -> Path:
    """Letterbox `photo` into width×height and write it as `frames` identical 4:2:0 frames."""
    canvas = Image.new("RGB", (width, height), (40, 40, 40))
    scaled = photo.copy()
    scaled.thumbnail((width, height))
    canvas.paste(scaled, ((width - scaled.width) // 2, (height - scaled.height) // 2))
    ycbcr = np.asarray(canvas.convert("YCbCr"))
    y = ycbcr[:, :, 0]
    # 4:2:0 chroma: average each 2×2 block.
    cb = ycbcr[:, :, 1].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).astype(np.uint8)
    cr = ycbcr[:, :, 2].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).astype(np.uint8)
    frame = b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(frame)
    return path
