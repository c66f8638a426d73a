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


def crop_and_resize(images, boxes: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """NumPy twin of `tf.image.crop_and_resize(images, boxes, index, (size, size))` (bilinear).

    `images`: an (n, h, w, 3) uint8 array, or a sequence of same-sized (h, w, 3) uint8 arrays
    (a clip's frames: stacking a chunk of them would copy more pixels than the crops read).
    `boxes` are normalised y1, x1, y2, x2; samples outside the image are 0, as in TF.
    """
    height, width = images[0].shape[:2]
    steps = np.arange(size, dtype=np.float32)
    boxes = boxes.astype(np.float32)
    index = np.asarray(index)

    def axis(start, end, extent):
        scale = (end - start) * (extent - 1) / (size - 1)
        coordinate = start[:, None] * (extent - 1) + steps[None, :] * scale[:, None]
        inside = (coordinate >= 0) & (coordinate <= extent - 1)
        low = np.clip(np.floor(coordinate), 0, extent - 1).astype(np.int64)
        high = np.clip(np.ceil(coordinate), 0, extent - 1).astype(np.int64)
        return low, high, (coordinate - np.floor(coordinate)).astype(np.float32), inside

    top, bottom, y_lerp, y_inside = axis(boxes[:, 0], boxes[:, 2], height)
    left, right, x_lerp, x_inside = axis(boxes[:, 1], boxes[:, 3], width)
    # The four corners of every sample as flat pixel numbers: upper left, upper right, lower
    # left, lower right. One gather per image is several times faster than 4-D fancy indexing.
    rows = np.stack([top, top, bottom, bottom])[:, :, :, None]
    cols = np.stack([left, right, left, right])[:, :, None, :]
    flat = rows * width + cols  # (4, boxes, size, size)
    corners = np.empty((*flat.shape, 3), np.uint8)
    for image in np.unique(index):
        # A photo's boxes all share one image; a clip's frames have one box each.
        mine = np.flatnonzero(index == image)
        corners[:, mine] = np.take(images[image].reshape(-1, 3), flat[:, mine], axis=0)
    upper_left, upper, lower_left, lower = corners.astype(np.float32)
    # TF's arithmetic, operation for operation (a + b is b + a in floating point too), done in
    # place: these arrays are megabytes per chunk of frames.
    x_weight = x_lerp[:, None, :, None]
    upper = upper - upper_left
    upper *= x_weight
    upper += upper_left
    lower = lower - lower_left
    lower *= x_weight
    lower += lower_left
    lower -= upper
    lower *= y_lerp[:, :, None, None]
    lower += upper
    inside = y_inside[:, :, None] & x_inside[:, None, :]
    if not inside.all():
        lower[~inside] = 0.0
    return lower


def _normalised(patches: np.ndarray) -> np.ndarray:
    """MTCNN's input scaling, in place: (pixel - 127.5) / 128."""
    patches -= np.float32(127.5)
    patches /= np.float32(128.0)
    return patches


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
        offsets, scores = self._stages["rnet"](_normalised(crop_and_resize(images, boxes, index, 24)))
        return offsets, scores[:, 1]

    def _onet(self, images, boxes, index):
        patches = _normalised(crop_and_resize(images, boxes, index, 48))
        offsets, landmarks, scores = self._stages["onet"](patches)
        return offsets, landmarks, scores[:, 1]
