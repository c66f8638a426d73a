"""Face detection (MTCNN weights from the `mtcnn` package) and aligned face crops.

`mtcnn` 1.0.0 runs its three networks op by op in eager TensorFlow and resizes its image
pyramid the same way (≈180 ms for a 512 px photo on 2 cores). We keep its networks and
weights but run the cascade ourselves: the pyramid with Pillow, all box arithmetic and NMS
vectorised in NumPy, and each stage's network in one call — through LiteRT
(`app/ml/mtcnn_litert.py`, serving) or a compiled `tf.function` (`app/ml/mtcnn_keras.py`).
That also sidesteps the package's traps: no `min_face_size` shape error, plain-int keypoints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
    """MTCNN's cascade around three stage networks; subclasses say what runs the networks.

    Everything but the networks — the Pillow image pyramid, box regression, squaring,
    NMS — is NumPy here, so the Keras and the LiteRT detector give the same faces.
    Create one through `app.ml.backends.get_face_detector()` (one per process).
    """

    backend: str = ""

    def __init__(
        self,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_size: int = 20,
        min_face_fraction: float = 0.1,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
        scale_factor: float = 0.709,
    ):
        self.max_side = max_side
        self.min_face_size = min_face_size
        self.min_face_fraction = min_face_fraction
        self.thresholds = thresholds
        self.scale_factor = scale_factor

    # --- the three networks (subclasses) ----------------------------------------------

    def _pnet(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PNet on one normalised (1, h, w, 3) level → regression (h', w', 4), face score (h', w')."""
        raise NotImplementedError

    def _rnet(
        self, images: np.ndarray, boxes: np.ndarray, index: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """RNet on 24 px crops of uint8 `images` at normalised y1x1y2x2 `boxes` → offsets, scores."""
        raise NotImplementedError

    def _onet(
        self, images: np.ndarray | Sequence[np.ndarray], boxes: np.ndarray, index: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ONet on 48 px crops → offsets (n, 4), landmarks (n, 10), face scores (n,).

        `images` may also be a sequence of same-sized frames (see `refine`).
        """
        raise NotImplementedError

    def _keep(self, boxes: np.ndarray, threshold: float) -> np.ndarray:
        """Indices kept by greedy intersection-over-union NMS, best score first."""
        return nms_iou(boxes, threshold)

    # --- the cascade ------------------------------------------------------------------

    def detect(self, image: Image.Image | np.ndarray, known: np.ndarray | None = None) -> FaceDetection:
        """Find faces; the image is downscaled to `max_side` first and boxes mapped back.

        `known`: x1, y1, x2, y2 of a face already found (a clip's tracked face). Candidates
        centred inside it are dropped after the first stage, so that only the rest of the
        picture costs the later two; look for the faces other than that one this way.
        """
        pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
        width, height = pil.size
        factor = min(1.0, self.max_side / max(width, height))
        if factor < 1.0:
            pil = pil.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.BILINEAR)
        rows = self._detect_rows(pil, None if known is None else np.asarray(known, np.float32) * factor)
        rows[:, :4] /= factor
        rows[:, 5:] /= factor
        return FaceDetection(_faces_from_rows(rows, width, height), (width, height))

    def refine(
        self, frames: np.ndarray | Sequence[np.ndarray], boxes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run only the last stage (ONet) at given boxes, one box per frame.

        This is the tracker for clips: a face barely moves between webcam frames, so the
        previous box re-centred by ONet's regression follows it, and ONet's face score
        says when the crop no longer looks like a face and a full detection is needed.
        `frames` is (n, h, w, 3) uint8 or a sequence of n same-sized (h, w, 3) uint8 frames
        (a clip's, not stacked: that copy cost more than the crops); `boxes` (n, 4) as x1, y1,
        x2, y2.
        Returns (scores (n,), boxes (n, 4) x1y1x2y2, keypoints (n, 10) xs then ys).
        """
        square = _square(boxes.astype(np.float32))
        offsets, landmarks, scores = self._onet(
            frames, _crop_boxes(square, frames[0].shape[:2]), np.arange(len(frames), dtype=np.int32)
        )
        refined, keypoints = _apply_onet(square, offsets, landmarks)
        return scores, refined, keypoints

    def _detect_rows(self, pil: Image.Image, known: np.ndarray | None = None) -> np.ndarray:
        """Rows of x1, y1, x2, y2, score, 5 keypoint xs, 5 keypoint ys (detector pixels)."""
        empty = np.empty((0, 15), np.float32)
        rgb = np.asarray(pil, dtype=np.uint8)
        height, width = rgb.shape[:2]
        candidates = []
        for scale in self._scales(width, height):
            size = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
            level = np.asarray(pil.resize(size, Image.BOX), dtype=np.float32)
            regression, probability = self._pnet(((level - 127.5) / 128.0)[None])
            boxes = _pnet_boxes(regression, probability, scale, self.thresholds[0])
            candidates.append(boxes[self._keep(boxes, 0.5)])
        boxes = np.concatenate(candidates) if candidates else empty[:, :5]
        if known is not None:
            boxes = boxes[~centred_inside(boxes, known)]
        if not len(boxes):
            return empty
        boxes = _square(boxes[self._keep(boxes, 0.7)])
        image = rgb[None]
        index = np.zeros(len(boxes), np.int32)

        offsets, scores = self._rnet(image, _crop_boxes(boxes, (height, width)), index)
        mask = scores > self.thresholds[1]
        boxes = _regress(boxes[mask], offsets[mask])
        boxes[:, 4] = scores[mask]
        if not len(boxes):
            return empty
        boxes = _square(boxes[self._keep(boxes, 0.7)])

        crop_boxes = _crop_boxes(boxes, (height, width))
        offsets, landmarks, scores = self._onet(image, crop_boxes, index[: len(boxes)])
        refined, keypoints = _apply_onet(boxes, offsets, landmarks)
        rows = np.concatenate([refined, scores[:, None], keypoints], axis=1)[scores > self.thresholds[2]]
        return rows[_nms_min(rows, 0.7)].astype(np.float32)

    def _scales(self, width: int, height: int) -> list[float]:
        # A face under a tenth of the picture's short side is too small to read an expression
        # from, and PNet's cost is the area of its first pyramid levels: skipping the scales
        # that only find such faces makes detection 2-4x cheaper.
        smallest = max(self.min_face_size, self.min_face_fraction * min(width, height))
        scale = 12.0 / smallest
        scales = []
        while min(width, height) * scale >= 12:
            scales.append(scale)
            scale *= self.scale_factor
        return scales


def centred_inside(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Which x1y1x2y2 `boxes` have their centre inside `box` (x1, y1, x2, y2)."""
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2
    return (box[0] <= centre_x) & (centre_x <= box[2]) & (box[1] <= centre_y) & (centre_y <= box[3])


def nms_iou(boxes: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS as `tf.image.non_max_suppression`: drop boxes whose IoU with a kept one > threshold.

    The pairwise IoU matrix is computed at once (PNet gives up to a few hundred boxes per
    level); the greedy pass then costs one vector operation per kept box.
    """
    if not len(boxes):
        return np.empty(0, np.int64)
    order = np.argsort(-boxes[:, 4], kind="stable")
    keep = []
    for start in range(0, len(order), 1024):
        # Beyond 1024 boxes the matrix is built per block against the boxes kept so far.
        block = order[start : start + 1024]
        if keep:
            block = block[~(_iou(boxes[block], boxes[keep]) > threshold).any(axis=1)]
        overlaps = _iou(boxes[block], boxes[block]) > threshold
        suppressed = np.zeros(len(block), bool)
        for i in range(len(block)):
            if not suppressed[i]:
                keep.append(block[i])
                suppressed |= overlaps[i]
    return np.array(keep, np.int64)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in `a` with every box in `b` (x1y1x2y2, any corner order)."""

    def corners(boxes):
        return (
            np.minimum(boxes[:, 0], boxes[:, 2]),
            np.minimum(boxes[:, 1], boxes[:, 3]),
            np.maximum(boxes[:, 0], boxes[:, 2]),
            np.maximum(boxes[:, 1], boxes[:, 3]),
        )

    ax1, ay1, ax2, ay2 = corners(a)
    bx1, by1, bx2, by2 = corners(b)
    inter = np.clip(np.minimum(ax2[:, None], bx2) - np.maximum(ax1[:, None], bx1), 0, None) * np.clip(
        np.minimum(ay2[:, None], by2) - np.maximum(ay1[:, None], by1), 0, None
    )
    union = ((ax2 - ax1) * (ay2 - ay1))[:, None] + (bx2 - bx1) * (by2 - by1) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


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


def _crop_boxes(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """x1y1x2y2 pixels → normalised y1x1y2x2, as `tf.image.crop_and_resize` takes them."""
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


def face_box_xyxy(face: Face) -> np.ndarray:
    x, y, w, h = face.box
    return np.array([x, y, x + w, y + h], np.float32)


def _source(
    image: Image.Image | np.ndarray, centre_x: float, centre_y: float, side: float
) -> tuple[Image.Image, float, float]:
    """The Pillow image a crop reads, and the crop's centre in it.

    From a video frame only the pixels the rotated square can reach (its half-diagonal, plus
    bilinear's neighbour) are copied into Pillow: converting whole frames cost more than the
    crops themselves. Pixels outside the frame stay black either way, so the crop is identical.
    """
    if isinstance(image, Image.Image):
        return image, centre_x, centre_y
    reach = side * 0.71 + 2
    height, width = image.shape[:2]
    left, top = max(0, int(centre_x - reach)), max(0, int(centre_y - reach))
    right, bottom = min(width, math.ceil(centre_x + reach)), min(height, math.ceil(centre_y + reach))
    if right <= left or bottom <= top:
        return Image.fromarray(image), centre_x, centre_y
    return Image.fromarray(image[top:bottom, left:right]), centre_x - left, centre_y - top


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
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin) * zoom
    centre_x = (x1 + x2) / 2 + shift[0] * side
    centre_y = (y1 + y2) / 2 + shift[1] * side
    pil, centre_x, centre_y = _source(image, centre_x, centre_y, side)
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
