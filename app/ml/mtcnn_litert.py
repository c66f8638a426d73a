"""MTCNN's stage networks through LiteRT: the serving detector, without TensorFlow.

The three networks are converted once (`flask ml convert`) into
`ML_MODELS_DIR/litert-cache/mtcnn-<version>/`, each with the checksum of the weights file
it came from. The crops that TensorFlow's `crop_and_resize` made inside the Keras stages
are made here in NumPy with the same sampling, so both detectors see the same pixels.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np

from app.ml.faces import DEFAULT_MAX_SIDE, FaceDetector
from app.plugins import litert

STAGES = ("pnet", "rnet", "onet")
MAX_BATCH = {"pnet": 1, "rnet": 64, "onet": 16}
CACHE_FOLDER = "litert-cache"
DISTRIBUTION = "mtcnn"


def weights_files() -> dict[str, Path]:
    """The package's weight files by stage, found through its RECORD (importing `mtcnn` loads TF)."""
    found = {}
    for file in importlib.metadata.files(DISTRIBUTION) or []:
        parts = Path(str(file)).parts
        if parts[:-1] == ("mtcnn", "assets", "weights") and parts[-1].endswith(".lz4"):
            found[parts[-1].removesuffix(".lz4")] = Path(file.locate())
    return found


def cache_dir(models_dir: str | Path) -> Path:
    version = importlib.metadata.version(DISTRIBUTION)
    return Path(models_dir) / CACHE_FOLDER / f"mtcnn-{version}"


def stale_reason(models_dir: str | Path) -> str | None:
    """Why the converted stages in `models_dir` cannot be served, or None."""
    try:
        sources = weights_files()
        folder = cache_dir(models_dir)
    except importlib.metadata.PackageNotFoundError:
        return "the mtcnn package is not installed"
    for stage in STAGES:
        if stage not in sources:
            return f"the mtcnn package has no {stage} weights"
        reason = litert.stale_reason(folder / f"{stage}.tflite", litert.source_digest([sources[stage]]))
        if reason is not None:
            return reason
    return None


def convert_stages(models_dir: str | Path) -> list[Path]:
    """Convert the three Keras stages to float32 LiteRT files (imports TensorFlow)."""
    from app.ml.mtcnn_keras import STAGE_INPUTS, stage_networks  # deferred: loads TensorFlow

    sources = weights_files()
    folder = cache_dir(models_dir)
    written = []
    for stage, network in stage_networks().items():
        model = litert.convert(lambda batch, net=network: net(batch), STAGE_INPUTS[stage])
        written.append(
            litert.write_converted(
                folder / f"{stage}.tflite",
                model,
                litert.source_digest([sources[stage]]),
                source=sources[stage].name,
                converter=litert.converter_version(),
            )
        )
    return written


def crop_and_resize(images: np.ndarray, boxes: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """NumPy twin of `tf.image.crop_and_resize(images, boxes, index, (size, size))` (bilinear).

    `boxes` are normalised y1, x1, y2, x2; samples outside the image are 0, as in TF.
    """
    _, height, width, _ = images.shape
    steps = np.arange(size, dtype=np.float32)
    boxes = boxes.astype(np.float32)

    def axis(start, end, extent):
        scale = (end - start) * (extent - 1) / (size - 1)
        coordinate = start[:, None] * (extent - 1) + steps[None, :] * scale[:, None]
        inside = (coordinate >= 0) & (coordinate <= extent - 1)
        low = np.clip(np.floor(coordinate), 0, extent - 1).astype(np.int64)
        high = np.clip(np.ceil(coordinate), 0, extent - 1).astype(np.int64)
        return low, high, (coordinate - np.floor(coordinate)).astype(np.float32), inside

    top, bottom, y_lerp, y_inside = axis(boxes[:, 0], boxes[:, 2], height)
    left, right, x_lerp, x_inside = axis(boxes[:, 1], boxes[:, 3], width)
    # One flat gather per corner is several times faster than 4-D fancy indexing.
    pixels = images.reshape(-1, images.shape[-1])
    base = index.astype(np.int64)[:, None, None] * height

    def sample(rows, cols):
        flat = (base + rows[:, :, None]) * width + cols[:, None, :]
        return np.take(pixels, flat, axis=0).astype(np.float32)

    upper_left, upper_right = sample(top, left), sample(top, right)
    lower_left, lower_right = sample(bottom, left), sample(bottom, right)
    x_weight = x_lerp[:, None, :, None]
    upper = upper_left + (upper_right - upper_left) * x_weight
    lower = lower_left + (lower_right - lower_left) * x_weight
    patches = upper + (lower - upper) * y_lerp[:, :, None, None]
    inside = (y_inside[:, :, None] & x_inside[:, None, :])[..., None]
    return np.where(inside, patches, np.float32(0.0))


class LiteRTFaceDetector(FaceDetector):
    """MTCNN with its stages in LiteRT; build it only when `stale_reason(models_dir)` is None."""

    backend = "litert"

    def __init__(
        self, models_dir: str | Path, max_side: int = DEFAULT_MAX_SIDE, threads: int | None = None, **options
    ):
        super().__init__(max_side, **options)
        folder = cache_dir(models_dir)
        # ONet's activations for 48 px crops are ≈ 0.6 MB a crop: small slices keep its buffers small.
        self._stages = {
            stage: litert.LiteRTModel(folder / f"{stage}.tflite", threads, max_batch=MAX_BATCH[stage])
            for stage in STAGES
        }

    def _pnet(self, level):
        regression, probability = self._stages["pnet"](level)
        return regression[0], probability[0, :, :, 1]

    def _rnet(self, images, boxes, index):
        patches = crop_and_resize(images, boxes, index, 24)
        offsets, scores = self._stages["rnet"]((patches - 127.5) / 128.0)
        return offsets, scores[:, 1]

    def _onet(self, images, boxes, index):
        patches = crop_and_resize(images, boxes, index, 48)
        offsets, landmarks, scores = self._stages["onet"]((patches - 127.5) / 128.0)
        return offsets, landmarks, scores[:, 1]
