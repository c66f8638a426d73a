"""Photo and clip analysis: the functions the screening job and `flask ml predict` call.

Pure computation: media in, dataclasses with JSON-safe `to_dict()` out. The caller owns
the process-wide detector (`app.ml.backends.get_face_detector`) and plugin (`get_plugin`);
whether LiteRT or Keras serves them makes no difference here. The Grad-CAM overlay is not
made here: it is rendered later, when a doctor first asks for it (app/jobs/activation_map.py).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from app.i18n.marker import N_
from app.ml.faces import (
    Face,
    FaceDetection,
    FaceDetector,
    aligned_crop,
    centred_inside,
    face_box_xyxy,
    face_eyes,
)
from app.ml.media import (
    DEFAULT_MAX_CLIP_SECONDS,
    DEFAULT_MAX_FRAME_PIXELS,
    VideoFrame,
    decode_clip,
    decode_image,
    reencode_jpeg,
)
from app.ml.scoring import AffectSummary, summarise_clip, summarise_photo
from app.plugins.base import ClassifierPlugin

Progress = Callable[[float, str], None]

DISPLAY_CROP_SIZE = 160
# Jittered views of a photo's face (zoom, shift as fraction of side, mirror): the model's
# output swings with the exact crop, so a photo is scored on their mean.
PHOTO_VIEWS = (
    (1.0, (0.0, 0.0), False),
    (1.0, (0.0, 0.0), True),
    (0.9, (0.0, 0.0), False),
    (1.1, (0.0, 0.0), True),
    (1.0, (0.04, -0.04), False),
    (1.0, (-0.04, 0.04), True),
)
# Clip tracking: ONet face score below which a tracked crop "stops looking like a face".
TRACK_MIN_SCORE = 0.7
# ONet refines every TRACK_STRIDE-th frame (and a chunk's last, whose box the next chunk starts
# from). A frame between two that kept the face takes their boxes and landmarks, interpolated:
# at 30 fps a face moves a pixel or two from one frame to the next, about ONet's own jitter.
# A frame beside one that lost the face is refined itself, so losing it is never interpolated.
TRACK_STRIDE = 2
# Key frames are never further apart than this (a 15 fps clip is refined on every frame).
MAX_INTERPOLATED_SECONDS = 0.07
# Full detections allowed per chunk when tracking is lost, to bound the cost of faceless clips.
MAX_REDETECTIONS_PER_CHUNK = 3
# While a face is tracked, a full detection at least this often (seconds of video) counts the
# faces in the picture; a person who stays in it for a second or longer is noticed.
FACE_COUNT_EVERY_SECONDS = 1.0
# ... on the frame reduced (by a whole factor) to a short side of at least this many pixels.
COUNT_SHORT_SIDE = 240
# Frames per chunk are bounded by pixels so 1080p clips do not blow the worker's memory.
CHUNK_PIXELS = 10_000_000
MAX_CHUNK_FRAMES = 32


class _Timer:
    def __init__(self):
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000

    def rounded(self) -> dict[str, float]:
        return {name: round(value, 1) for name, value in self.ms.items()}


@dataclass
class FaceResult:
    face: Face
    probabilities: dict[str, float]
    summary: AffectSummary

    def to_dict(self) -> dict:
        return {
            **self.face.to_dict(),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "affect": self.summary.to_dict(),
        }


@dataclass
class PhotoAnalysis:
    plugin: str
    plugin_version: str | None
    labels: tuple[str, ...]
    detection: FaceDetection
    faces: list[FaceResult]
    timings_ms: dict[str, float]
    primary_crop_jpeg: bytes | None = None

    @property
    def status(self) -> str:
        return self.detection.status

    @property
    def summary(self) -> AffectSummary | None:
        """The primary (most prominent) face's summary; None without a face."""
        return self.faces[0].summary if self.faces else None

    def to_dict(self) -> dict:
        return {
            "kind": "photo",
            "status": self.status,
            "plugin": {"name": self.plugin, "version": self.plugin_version, "labels": list(self.labels)},
            "image_size": list(self.detection.image_size),
            "faces": [result.to_dict() for result in self.faces],
            "summary": self.summary.to_dict() if self.summary else None,
            "timings_ms": self.timings_ms,
            "has_crop": self.primary_crop_jpeg is not None,
        }


@dataclass
class FrameResult:
    index: int
    timestamp: float
    box: tuple[int, int, int, int] | None
    confidence: float | None
    probabilities: dict[str, float] | None = None

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "t": round(self.timestamp, 3),
            "box": list(self.box) if self.box else None,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "probabilities": None
            if self.probabilities is None
            else {k: round(v, 4) for k, v in self.probabilities.items()},
        }


@dataclass
class ClipAnalysis:
    plugin: str
    plugin_version: str | None
    labels: tuple[str, ...]
    frames: list[FrameResult]
    max_faces_seen: int
    summary: AffectSummary | None
    timings_ms: dict[str, float]
    detections: int
    primary_crop_jpeg: bytes | None = None
    frame_size: tuple[int, int] | None = field(default=None)
    face_counts: int = 0  # full detections made only to count the faces
    several_faces_at: list[float] = field(default_factory=list)  # seconds where > 1 face was seen

    @property
    def status(self) -> str:
        """ "several" when another face was seen at any full detection: the tracked (primary)
        face is still the only one classified, and the result says someone else appeared."""
        if self.summary is None:
            return "none"
        return "several" if self.max_faces_seen > 1 else "one"

    @property
    def frames_with_face(self) -> int:
        return sum(frame.probabilities is not None for frame in self.frames)

    def to_dict(self) -> dict:
        return {
            "kind": "clip",
            "status": self.status,
            "plugin": {"name": self.plugin, "version": self.plugin_version, "labels": list(self.labels)},
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "frames_decoded": len(self.frames),
            "frames_with_face": self.frames_with_face,
            "full_detections": self.detections,
            "face_counts": self.face_counts,
            "max_faces_seen": self.max_faces_seen,
            "several_faces_at": [round(t, 3) for t in self.several_faces_at],
            "frames": [frame.to_dict() for frame in self.frames],
            "summary": self.summary.to_dict() if self.summary else None,
            "timings_ms": self.timings_ms,
            "has_crop": self.primary_crop_jpeg is not None,
        }


def _crop_size(plugin: ClassifierPlugin) -> int:
    # Crop straight at the classifier's resolution: resizing later would cost twice.
    return max(plugin.input_shape[:2])


def analyse_photo(
    image: Image.Image | bytes,
    plugin: ClassifierPlugin,
    detector: FaceDetector,
) -> PhotoAnalysis:
    """Detect every face of a photo and classify each over jittered crops (one batch)."""
    timer = _Timer()
    with timer.stage("total"):
        if isinstance(image, bytes):
            with timer.stage("decode"):
                image = decode_image(image, long_side=detector.max_side)
        with timer.stage("detect"):
            detection = detector.detect(image)
        size = _crop_size(plugin)
        with timer.stage("crop"):
            crops = [
                aligned_crop(
                    image,
                    face_box_xyxy(face),
                    face_eyes(face),
                    size=size,
                    zoom=zoom,
                    shift=shift,
                    mirror=mirror,
                )
                for face in detection.faces
                for zoom, shift, mirror in PHOTO_VIEWS
            ]
        with timer.stage("classify"):
            probabilities = plugin.predict_batch(crops) if crops else np.zeros((0, len(plugin.labels)))
        results = []
        for i, face in enumerate(detection.faces):
            views = probabilities[i * len(PHOTO_VIEWS) : (i + 1) * len(PHOTO_VIEWS)]
            summary = summarise_photo(views, plugin.labels)
            results.append(FaceResult(face, summary.distribution, summary))
        crop_jpeg = None
        if detection.primary is not None:
            primary = detection.primary
            display = aligned_crop(image, face_box_xyxy(primary), face_eyes(primary), size=DISPLAY_CROP_SIZE)
            crop_jpeg = reencode_jpeg(Image.fromarray(display))
    return PhotoAnalysis(
        plugin.name,
        plugin.version,
        tuple(plugin.labels),
        detection,
        results,
        timer.rounded(),
        crop_jpeg,
    )


# A tracked frame: ONet's box (x1, y1, x2, y2), its 10 landmark coordinates and its face score.
_Tracked = tuple[np.ndarray, np.ndarray, float]


def _key_frames(frames: list[VideoFrame]) -> list[int]:
    """The frames ONet refines: every `TRACK_STRIDE`-th, the last, and all where key frames
    would be more than `MAX_INTERPOLATED_SECONDS` apart (a slow clip is refined throughout)."""
    keys = [0]
    while keys[-1] < len(frames) - 1:
        last = keys[-1]
        step = min(TRACK_STRIDE, len(frames) - 1 - last)
        while step > 1 and frames[last + step].timestamp - frames[last].timestamp > MAX_INTERPOLATED_SECONDS:
            step -= 1
        keys.append(last + step)
    return keys


def _between(before: _Tracked, after: _Tracked, weight: float) -> _Tracked:
    """A frame between two tracked ones: their boxes and landmarks, linearly interpolated."""
    return (
        before[0] + (after[0] - before[0]) * weight,
        before[1] + (after[1] - before[1]) * weight,
        min(before[2], after[2]),
    )


class _ClipTracker:
    """Follows the primary face through a clip: ONet on key frames (`TRACK_STRIDE`), the frames
    between them interpolated, and a full MTCNN detection only when ONet loses the face.

    The primary face is the most prominent one at the detection that started the track
    (`FaceDetection.primary`: the largest); it is the one classified on every frame. ONet
    only ever looks at that face's box, so a full detection also runs once every
    `FACE_COUNT_EVERY_SECONDS` of video to count the faces in the picture: someone who
    walks into the room is then noticed (`several_faces_at`), though never classified.
    """

    def __init__(self, detector: FaceDetector, crop_size: int):
        self.detector = detector
        self.crop_size = crop_size
        self.box: np.ndarray | None = None  # x1, y1, x2, y2 of the last good frame
        self.detections = 0  # full detections because the face was lost
        self.face_counts = 0  # full detections made only to count the faces
        self.max_faces_seen = 0
        self.several_faces_at: list[float] = []
        self.display_crop: np.ndarray | None = None
        self._counted_at: float | None = None  # timestamp of the last full detection

    def _detect(self, frame: VideoFrame) -> Face | None:
        detection = self.detector.detect(frame.rgb)
        self._note_faces(frame.timestamp, len(detection.faces))
        return detection.primary

    def _note_faces(self, timestamp: float, count: int) -> None:
        self._counted_at = max(timestamp, self._counted_at or 0.0)
        self.max_faces_seen = max(self.max_faces_seen, count)
        if count > 1:
            self.several_faces_at.append(timestamp)

    def process(self, frames: list[VideoFrame]) -> list[tuple[np.ndarray, Face] | None]:
        """For each frame (all of one size), (classifier crop, face) or None when no face is there."""
        results: list[tuple[np.ndarray, Face] | None] = [None] * len(frames)
        pixels = [frame.rgb for frame in frames]
        # ONet's box, landmarks and score of each frame that kept the face.
        found: dict[int, _Tracked] = {}
        keys = _key_frames(frames)
        self._track(frames, keys, found)
        unsure = []
        for previous, following in itertools.pairwise(keys):
            for index in range(previous + 1, following):
                if previous in found and following in found:
                    found[index] = _between(found[previous], found[following],
                                            (index - previous) / (following - previous))
                else:
                    unsure.append(index)  # beside a frame that lost the face: ONet decides
        self._refine_unsure(pixels, unsure, found)
        for index in sorted(found):
            results[index] = self._crop(pixels[index], found[index])
        self._count_faces(frames, results)
        return results

    def _track(self, frames: list[VideoFrame], keys: list[int], found: dict[int, _Tracked]) -> None:
        """ONet on the key frames from the tracked box; a full detection when the face is lost."""
        pending = list(keys)
        attempts = 0
        while pending:
            if self.box is None:
                if attempts >= MAX_REDETECTIONS_PER_CHUNK:
                    break
                attempts += 1
                # Spread the allowed detections over the chunk: faces may appear mid-way.
                index = pending[(len(pending) - 1) * (attempts - 1) // max(1, MAX_REDETECTIONS_PER_CHUNK - 1)]
                self.detections += 1
                face = self._detect(frames[index])
                if face is None:
                    pending.remove(index)
                    continue
                self.box = face_box_xyxy(face)
            # The frames go to ONet unstacked: a stacked copy of the chunk cost more than the crops.
            scores, boxes, keypoints = self.detector.refine(
                [frames[i].rgb for i in pending], np.repeat(self.box[None], len(pending), axis=0)
            )
            still_pending = []
            for index, score, box, points in zip(pending, scores, boxes, keypoints, strict=True):
                if score < TRACK_MIN_SCORE:
                    still_pending.append(index)
                else:
                    found[index] = (box, points, float(score))
            good = [i for i in pending if i in found]
            if good:
                # The next round or chunk starts from the last good frame's box, in whole pixels.
                self.box = face_box_xyxy(_face(found[good[-1]], frames[0].rgb.shape[:2]))
            if still_pending:
                # Lost the face on some frames: forget the box so the next round re-detects.
                self.box = None
            pending = still_pending

    def _refine_unsure(self, pixels: list[np.ndarray], unsure: list[int], found: dict[int, _Tracked]) -> None:
        """ONet on the frames beside a lost key frame, from the nearest box that held."""
        starts = {}
        for index in unsure:
            near = [i for i in (index - 1, index + 1) if i in found]
            start = found[near[0]][0] if near else self.box
            if start is not None:
                starts[index] = start
        if not starts:
            return
        indices = list(starts)
        scores, boxes, keypoints = self.detector.refine(
            [pixels[i] for i in indices], np.stack([starts[i] for i in indices])
        )
        for index, score, box, points in zip(indices, scores, boxes, keypoints, strict=True):
            if score >= TRACK_MIN_SCORE:
                found[index] = (box, points, float(score))

    def _count_faces(self, frames: list[VideoFrame], results: list[tuple[np.ndarray, Face] | None]) -> None:
        """The periodic full detections; they only count, and never move the tracked box."""
        for frame, result in zip(frames, results, strict=True):
            if self._counted_at is not None and frame.timestamp - self._counted_at < FACE_COUNT_EVERY_SECONDS:
                continue
            self.face_counts += 1
            image = Image.fromarray(frame.rgb)
            # The detector skips faces under a tenth of the short side, so its pyramid is the
            # same on a frame reduced to COUNT_SHORT_SIDE: only its resizes get cheaper.
            factor = max(1, min(image.size) // COUNT_SHORT_SIDE)
            reduced = image.reduce(factor) if factor > 1 else image
            if result is None:
                self._note_faces(frame.timestamp, len(self.detector.detect(reduced).faces))
                continue
            # The tracked face is known: look only for the others (see `FaceDetector.detect`).
            tracked = face_box_xyxy(result[1]) / factor
            found = self.detector.detect(reduced, known=tracked).faces
            # A candidate from beside the face may still have been regressed onto it.
            others = [face for face in found if not centred_inside(face_box_xyxy(face)[None], tracked)[0]]
            self._note_faces(frame.timestamp, 1 + len(others))

    def _crop(self, rgb: np.ndarray, tracked: _Tracked) -> tuple[np.ndarray, Face]:
        box, points, _ = tracked
        eyes = ((float(points[0]), float(points[5])), (float(points[1]), float(points[6])))
        crop = aligned_crop(rgb, box, eyes, size=self.crop_size)
        if self.display_crop is None:
            self.display_crop = aligned_crop(rgb, box, eyes, size=DISPLAY_CROP_SIZE)
        return crop, _face(tracked, rgb.shape[:2])


def _face(tracked: _Tracked, shape: tuple[int, int]) -> Face:
    """A tracked frame's face in whole pixels, its box clipped to the frame."""
    box, points, score = tracked
    height, width = shape
    x1, y1 = max(0, int(round(box[0]))), max(0, int(round(box[1])))
    x2, y2 = min(width, int(round(box[2]))), min(height, int(round(box[3])))
    return Face(
        (x1, y1, max(1, x2 - x1), max(1, y2 - y1)),
        score,
        {
            "left_eye": (int(round(float(points[0]))), int(round(float(points[5])))),
            "right_eye": (int(round(float(points[1]))), int(round(float(points[6])))),
        },
    )


def _chunks(frames: Iterator[VideoFrame], timer: _Timer) -> Iterator[list[VideoFrame]]:
    """Consecutive frames of one size, bounded by `MAX_CHUNK_FRAMES` and `CHUNK_PIXELS`."""
    chunk: list[VideoFrame] = []
    while True:
        with timer.stage("decode"):
            frame = next(frames, None)
        if frame is None:
            break
        if chunk and frame.rgb.shape != chunk[0].rgb.shape:
            yield chunk  # the picture size changed mid-stream (a webm may do so)
            chunk = []
        chunk.append(frame)
        height, width = frame.rgb.shape[:2]
        if len(chunk) >= max(1, min(MAX_CHUNK_FRAMES, CHUNK_PIXELS // (height * width))):
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def analyse_clip(
    source: str | Path | bytes,
    plugin: ClassifierPlugin,
    detector: FaceDetector,
    max_seconds: float = DEFAULT_MAX_CLIP_SECONDS,
    progress: Progress | None = None,
    sample_every: int = 1,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
) -> ClipAnalysis:
    """Classify the primary face on every `sample_every`-th frame of a clip.

    Frames are decoded and tracked in chunks (memory stays bounded), crops are
    classified in large batches, and `progress(fraction, message)` is called after
    every chunk (≈ 1 s of video, well under a second of work). Raises `MediaError`.
    """
    timer = _Timer()
    report = progress or (lambda fraction, message: None)
    tracker = _ClipTracker(detector, _crop_size(plugin))
    frames: list[FrameResult] = []
    crops: list[np.ndarray] = []
    crop_frames: list[int] = []
    frame_size = None
    with timer.stage("total"):
        report(0.0, N_("Reading the video"))
        decoded = decode_clip(source, max_seconds=max_seconds, sample_every=sample_every,
                              max_frame_pixels=max_frame_pixels)
        for chunk in _chunks(decoded, timer):
            frame_size = frame_size or (chunk[0].rgb.shape[1], chunk[0].rgb.shape[0])
            with timer.stage("track"):
                tracked = tracker.process(chunk)
            for item, result in zip(chunk, tracked, strict=True):
                if result is None:
                    frames.append(FrameResult(item.index, item.timestamp, None, None))
                    continue
                crop, face = result
                crop_frames.append(len(frames))
                crops.append(crop)
                frames.append(FrameResult(item.index, item.timestamp, face.box, face.confidence))
            seconds = chunk[-1].timestamp
            # The length is unknown until the end (webm has no duration): scale by the limit.
            report(min(0.9, 0.9 * seconds / max_seconds),
                   N_("Analysed %(seconds)d s of video", seconds=round(seconds)))
        report(0.9, N_("Classifying expressions"))
        with timer.stage("classify"):
            probabilities = plugin.predict_batch(crops) if crops else np.zeros((0, len(plugin.labels)))
        for frame_position, row in zip(crop_frames, probabilities, strict=True):
            frames[frame_position].probabilities = dict(zip(plugin.labels, map(float, row), strict=True))
        summary = summarise_clip(probabilities, plugin.labels) if len(probabilities) else None
        crop_jpeg = None
        if tracker.display_crop is not None:
            crop_jpeg = reencode_jpeg(Image.fromarray(tracker.display_crop))
    report(1.0, N_("Done"))
    return ClipAnalysis(
        plugin.name,
        plugin.version,
        tuple(plugin.labels),
        frames,
        tracker.max_faces_seen,
        summary,
        timer.rounded(),
        tracker.detections,
        crop_jpeg,
        frame_size,
        tracker.face_counts,
        tracker.several_faces_at,
    )
