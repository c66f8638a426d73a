"""Face detection (MTCNN weights from the `mtcnn` package) and aligned face crops.

`mtcnn` 1.0.0 runs its three networks op by op in eager TensorFlow and resizes its image
pyramid the same way (≈180 ms for a 512 px photo on 2 cores). We keep its networks and
weights but run each stage as one compiled `tf.function` (crop + network together),
build the pyramid with Pillow, and keep all box arithmetic vectorised in NumPy.
That also sidesteps its traps: no `min_face_size` shape error, plain-int keypoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

DEFAULT_MAX_SIDE = 640
_KEYPOINT_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class Face:
    """One face in original image pixels; `box` is (x, y, width, height)."""

    box: tuple[int, int, int, int]
    confidence: float
    keypoints: dict[str, tuple[int, int]]

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]

    def to_dict(self) -> dict:
        return {
            "box": list(self.box),
            "confidence": round(self.confidence, 4),
            "keypoints": {name: list(point) for name, point in self.keypoints.items()},
        }


@dataclass(frozen=True)
class FaceDetection:
    """All faces of one image, most prominent first."""

    faces: tuple[Face, ...]
    image_size: tuple[int, int]  # (width, height)

    @property
    def status(self) -> str:
        """ "none", "one" or "several" — the screening treats each differently."""
        if not self.faces:
            return "none"
        return "one" if len(self.faces) == 1 else "several"

    @property
    def primary(self) -> Face | None:
        return self.faces[0] if self.faces else None

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "image_size": list(self.image_size),
            "faces": [f.to_dict() for f in self.faces],
        }


class FaceDetector:
    """MTCNN with compiled stages. Create it through `get_face_detector()` (one per process)."""

    def __init__(
        self,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
        scale_factor: float = 0.709,
    ):
        import tensorflow as tf
        from mtcnn.network.onet import ONet
        from mtcnn.network.pnet import PNet
        from mtcnn.network.rnet import RNet
        from mtcnn.utils.tensorflow import load_weights

        self.max_side = max_side
        self.min_face_size = min_face_size
        self.thresholds = thresholds
        self.scale_factor = scale_factor
        nets = []
        for cls, weights in ((PNet, "pnet.lz4"), (RNet, "rnet.lz4"), (ONet, "onet.lz4")):
            net = cls()
            net.build()
            net.set_weights(load_weights(weights))
            nets.append(net)
        pnet, rnet, onet = nets
        image_spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        frames_spec = tf.TensorSpec([None, None, None, 3], tf.uint8)
        box_spec = tf.TensorSpec([None, 4], tf.float32)
        index_spec = tf.TensorSpec([None], tf.int32)

        @tf.function(input_signature=[image_spec])
        def run_pnet(image):
            return pnet(image)

        def cropping_stage(net, size):
            # Crops and network in one graph: one Python→TF round trip per stage. The
            # frames stay uint8 (4x less to copy); only the small patches are normalised.
            @tf.function(input_signature=[frames_spec, box_spec, index_spec])
            def run(images, boxes, image_index):
                patches = tf.image.crop_and_resize(images, boxes, image_index, (size, size))
                return net((patches - 127.5) / 128.0)

            return run

        self._pnet = run_pnet
        self._rnet = cropping_stage(rnet, 24)
        self._onet = cropping_stage(onet, 48)
        self._nms = tf.image.non_max_suppression

    def detect(self, image: Image.Image | np.ndarray) -> FaceDetection:
        """Find faces; the image is downscaled to `max_side` first and boxes mapped back."""
        pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
        width, height = pil.size
        factor = min(1.0, self.max_side / max(width, height))
        if factor < 1.0:
            pil = pil.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.BILINEAR)
        rows = self._detect_rows(pil)
        rows[:, :4] /= factor
        rows[:, 5:] /= factor
        return FaceDetection(_faces_from_rows(rows, width, height), (width, height))

    def refine(self, frames: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run only the last stage (ONet) at given boxes, one box per frame.

        This is the tracker for clips: a face barely moves between webcam frames, so the
        previous box re-centred by ONet's regression follows it, and ONet's face score
        says when the crop no longer looks like a face and a full detection is needed.
        `frames` is (n, h, w, 3) uint8, `boxes` (n, 4) as x1, y1, x2, y2.
        Returns (scores (n,), boxes (n, 4) x1y1x2y2, keypoints (n, 10) xs then ys).
        """
        square = _square(boxes.astype(np.float32))
        offsets, landmarks, scores = self._onet(
            frames, _tf_boxes(square, frames.shape[1:3]), np.arange(len(frames), dtype=np.int32)
        )
        refined, keypoints = _apply_onet(square, offsets.numpy(), landmarks.numpy())
        return scores.numpy()[:, 1], refined, keypoints

    def _detect_rows(self, pil: Image.Image) -> np.ndarray:
        """Rows of x1, y1, x2, y2, score, 5 keypoint xs, 5 keypoint ys (detector pixels)."""
        empty = np.empty((0, 15), np.float32)
        rgb = np.asarray(pil, dtype=np.uint8)
        height, width = rgb.shape[:2]
        candidates = []
        for scale in self._scales(width, height):
            size = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
            level = np.asarray(pil.resize(size, Image.BOX), dtype=np.float32)
            regression, probability = self._pnet(((level - 127.5) / 128.0)[None])
            boxes = _pnet_boxes(
                regression.numpy()[0], probability.numpy()[0, :, :, 1], scale, self.thresholds[0]
            )
            candidates.append(boxes[self._keep(boxes, 0.5)])
        boxes = np.concatenate(candidates) if candidates else empty[:, :5]
        if not len(boxes):
            return empty
        boxes = _square(boxes[self._keep(boxes, 0.7)])
        image = rgb[None]
        index = np.zeros(len(boxes), np.int32)

        offsets, scores = self._rnet(image, _tf_boxes(boxes, (height, width)), index)
        scores = scores.numpy()[:, 1]
        mask = scores > self.thresholds[1]
        boxes = _regress(boxes[mask], offsets.numpy()[mask])
        boxes[:, 4] = scores[mask]
        if not len(boxes):
            return empty
        boxes = _square(boxes[self._keep(boxes, 0.7)])

        offsets, landmarks, scores = self._onet(image, _tf_boxes(boxes, (height, width)), index[: len(boxes)])
        scores = scores.numpy()[:, 1]
        refined, keypoints = _apply_onet(boxes, offsets.numpy(), landmarks.numpy())
        rows = np.concatenate([refined, scores[:, None], keypoints], axis=1)[scores > self.thresholds[2]]
        return rows[_nms_min(rows, 0.7)].astype(np.float32)

    def _scales(self, width: int, height: int) -> list[float]:
        scale = 12.0 / self.min_face_size
        scales = []
        while min(width, height) * scale >= 12:
            scales.append(scale)
            scale *= self.scale_factor
        return scales

    def _keep(self, boxes: np.ndarray, threshold: float) -> np.ndarray:
        if not len(boxes):
            return np.empty(0, np.int64)
        yx = boxes[:, [1, 0, 3, 2]]
        return self._nms(yx, boxes[:, 4], max_output_size=len(boxes), iou_threshold=threshold).numpy()


def _pnet_boxes(
    regression: np.ndarray, probability: np.ndarray, scale: float, threshold: float
) -> np.ndarray:
    """Turn PNet's sliding-window map (stride 2, 12 px cells) into regressed boxes."""
    ys, xs = np.nonzero(probability > threshold)
    x1 = (2 * xs + 1) / scale
    y1 = (2 * ys + 1) / scale
    side = 11 / scale
    reg = regression[ys, xs]
    return np.stack(
        [
            x1 + reg[:, 0] * side,
            y1 + reg[:, 1] * side,
            x1 + side + reg[:, 2] * side,
            y1 + side + reg[:, 3] * side,
            probability[ys, xs],
        ],
        axis=1,
    ).astype(np.float32)


def _square(boxes: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(width, height)
    out[:, 0] = boxes[:, 0] + width / 2 - side / 2
    out[:, 1] = boxes[:, 1] + height / 2 - side / 2
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    width = boxes[:, 2] - boxes[:, 0] + 1
    height = boxes[:, 3] - boxes[:, 1] + 1
    out[:, :4] += offsets * np.stack([width, height, width, height], axis=1)
    return out


def _apply_onet(
    boxes: np.ndarray, offsets: np.ndarray, landmarks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    width = boxes[:, 2:3] - boxes[:, 0:1] + 1
    height = boxes[:, 3:4] - boxes[:, 1:2] + 1
    keypoints = np.concatenate(
        [width * landmarks[:, :5] + boxes[:, 0:1] - 1, height * landmarks[:, 5:] + boxes[:, 1:2] - 1], axis=1
    )
    return _regress(boxes[:, :4], offsets), keypoints


def _tf_boxes(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """x1y1x2y2 pixels → crop_and_resize's normalised y1x1y2x2."""
    height, width = shape
    return (
        boxes[:, [1, 0, 3, 2]] / np.array([height - 1, width - 1, height - 1, width - 1], np.float32)
    ).astype(np.float32)


def _nms_min(rows: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS on intersection over the *smaller* box, as MTCNN's last stage does."""
    order = np.argsort(-rows[:, 4])
    areas = (rows[:, 2] - rows[:, 0]) * (rows[:, 3] - rows[:, 1])
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        inter_w = np.clip(
            np.minimum(rows[best, 2], rows[rest, 2]) - np.maximum(rows[best, 0], rows[rest, 0]), 0, None
        )
        inter_h = np.clip(
            np.minimum(rows[best, 3], rows[rest, 3]) - np.maximum(rows[best, 1], rows[rest, 1]), 0, None
        )
        overlap = inter_w * inter_h / np.maximum(np.minimum(areas[best], areas[rest]), 1e-6)
        order = rest[overlap <= threshold]
    return np.array(keep, np.int64)


def _faces_from_rows(rows: np.ndarray, width: int, height: int) -> tuple[Face, ...]:
    faces = []
    for row in rows:
        x1, y1 = max(0, round(float(row[0]))), max(0, round(float(row[1])))
        x2, y2 = min(width, round(float(row[2]))), min(height, round(float(row[3])))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        keypoints = {
            name: (int(round(float(row[5 + i]))), int(round(float(row[10 + i]))))
            for i, name in enumerate(_KEYPOINT_NAMES)
        }
        faces.append(Face((x1, y1, x2 - x1, y2 - y1), float(row[4]), keypoints))
    # Prominence: the biggest face is the patient in front of the camera; confidence breaks ties.
    return tuple(sorted(faces, key=lambda f: (f.area, f.confidence), reverse=True))


@lru_cache(maxsize=4)
def get_face_detector(max_side: int = DEFAULT_MAX_SIDE) -> FaceDetector:
    """The process-wide detector: building it loads weights and traces its graphs once."""
    return FaceDetector(max_side=max_side)


def face_box_xyxy(face: Face) -> np.ndarray:
    x, y, w, h = face.box
    return np.array([x, y, x + w, y + h], np.float32)


def aligned_crop(
    image: Image.Image | np.ndarray,
    box_xyxy: np.ndarray,
    eyes: tuple[tuple[float, float], tuple[float, float]] | None,
    size: int = 160,
    margin: float = 0.15,
    zoom: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    mirror: bool = False,
) -> np.ndarray:
    """A square RGB crop of a face rotated so that the eye line is horizontal.

    `margin` widens the box on each side (FER2013 faces include the forehead and chin);
    `zoom` and `shift` (fractions of the box side) make the jittered variants that the
    photo path averages over, since the classifier is sensitive to the exact crop.
    """
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin) * zoom
    centre_x = (x1 + x2) / 2 + shift[0] * side
    centre_y = (y1 + y2) / 2 + shift[1] * side
    angle = 0.0
    if eyes is not None:
        (lx, ly), (rx, ry) = sorted(eyes)
        angle = math.atan2(ry - ly, rx - lx)
    step = side / size
    cos, sin = math.cos(angle) * step, math.sin(angle) * step
    half = size / 2
    # PIL's affine maps output pixels to input pixels: rotate by the eye angle about the centre.
    coefficients = (
        cos,
        -sin,
        centre_x - cos * half + sin * half,
        sin,
        cos,
        centre_y - sin * half - cos * half,
    )
    crop = pil.transform((size, size), Image.AFFINE, coefficients, resample=Image.BILINEAR)
    if mirror:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    return np.asarray(crop, dtype=np.uint8)


def face_eyes(face: Face) -> tuple[tuple[float, float], tuple[float, float]]:
    return (face.keypoints["left_eye"], face.keypoints["right_eye"])
