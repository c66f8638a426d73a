"""The clip path: frames converted by one swscale context, tracked unstacked, a second face noticed.

Real clips encoded here with FFmpeg from scikit-image's astronaut; the real MTCNN and the
real pretrained classifier.
"""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from app.ml import pipeline
from app.ml.faces import face_box_xyxy
from app.ml.media import decode_clip
from tests.ml import hostile_clips
from tests.samples import encode_clip

FPS = 15


def patient_clip(
    astronaut: Image.Image, seconds: float = 4.0, visitor: tuple[float, float] | None = None, fps: int = FPS
):
    """320x240: the astronaut swaying in front; during `visitor` (seconds) a second, smaller
    face stands in the top-right corner."""
    head = astronaut.crop((120, 0, 340, 230)).resize((150, 157))
    second = astronaut.crop((150, 30, 310, 200)).resize((70, 74)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    frames = []
    for index in range(int(seconds * fps)):
        frame = Image.new("RGB", (320, 240), (70, 80, 90))
        frame.paste(head, (40 + index % 6, 40 + index % 4))
        if visitor and visitor[0] <= index / fps < visitor[1]:
            frame.paste(second, (235, 20))
        frames.append(frame)
    return frames


@pytest.mark.parametrize(
    ("codec", "pix_fmt", "suffix", "size"),
    # An odd width too: its rows are padded in FFmpeg's buffers (and RGBA out would be wrong there).
    [("libvpx-vp9", "yuv420p", ".webm", (320, 240)), ("mjpeg", "yuvj420p", ".mkv", (162, 122))],
)
def test_decoded_frames_are_ffmpegs_rgb24_pixels(astronaut, tmp_path, codec, pix_fmt, suffix, size):
    frames = [astronaut.resize(size).rotate(angle) for angle in (0, 3, 6, 9)]
    path = encode_clip(tmp_path / f"clip{suffix}", frames, FPS, codec, pix_fmt)
    expected = [frame.to_ndarray(format="rgb24") for frame in av.open(str(path)).decode(video=0)]
    decoded = list(decode_clip(path))
    assert len(decoded) == len(expected) == 4
    for frame, pixels in zip(decoded, expected, strict=True):
        assert frame.rgb.shape == (size[1], size[0], 3)
        assert np.array_equal(frame.rgb, pixels)


@pytest.mark.slow
def test_a_second_face_entering_while_tracked_is_noticed_but_not_classified(
    detector, pretrained, astronaut, tmp_path
):
    path = encode_clip(tmp_path / "visitor.webm", patient_clip(astronaut, visitor=(1.6, 3.2)), FPS)
    result = pipeline.analyse_clip(path, pretrained, detector)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "several" and data["max_faces_seen"] == 2
    assert data["several_faces_at"] and all(1.6 <= t < 3.2 for t in data["several_faces_at"])
    assert data["face_counts"] >= 3
    # Every classified frame is the patient's face (left), never the visitor's (top right).
    boxes = [frame["box"] for frame in data["frames"] if frame["box"]]
    assert len(boxes) >= 55 and all(x < 120 and y > 20 for x, y, _, _ in boxes)


@pytest.mark.slow
def test_counting_faces_leaves_a_single_face_clip_as_it_was(
    detector, pretrained, astronaut, tmp_path, monkeypatch
):
    path = encode_clip(tmp_path / "alone.webm", patient_clip(astronaut), FPS)
    counted = pipeline.analyse_clip(path, pretrained, detector)
    monkeypatch.setattr(pipeline, "FACE_COUNT_EVERY_SECONDS", float("inf"))
    uncounted = pipeline.analyse_clip(path, pretrained, detector)
    assert counted.status == "one" and counted.several_faces_at == [] and counted.face_counts >= 3
    assert uncounted.face_counts == 0

    def comparable(result):
        data = json.loads(json.dumps(result.to_dict()))
        for key in ("timings_ms", "face_counts"):
            data.pop(key)
        return data

    assert comparable(counted) == comparable(uncounted)
    assert counted.primary_crop_jpeg == uncounted.primary_crop_jpeg


@pytest.mark.slow
def test_a_clip_whose_picture_size_changes_is_analysed(detector, pretrained):
    clip = hostile_clips.clip([(64, 64)] * 4 + [(96, 80)] * 4)
    result = pipeline.analyse_clip(clip, pretrained, detector)
    assert len(result.frames) == 8 and result.frame_size == (64, 64)
    assert result.status == "none"


@pytest.mark.slow
def test_detection_around_a_known_face_finds_only_the_others(detector, astronaut):
    frame = patient_clip(astronaut, seconds=0.1, visitor=(0.0, 1.0))[0]
    everyone = detector.detect(frame).faces
    assert len(everyone) == 2
    patient, visitor = everyone  # the largest first
    others = detector.detect(frame, known=face_box_xyxy(patient)).faces
    assert [face.box for face in others] == [visitor.box]
    assert detector.detect(frame, known=face_box_xyxy(visitor)).faces[0].box == patient.box


def _count_refined_frames(monkeypatch, detector) -> list[int]:
    """The number of frames of each ONet refinement the detector is asked for, from now on."""
    refined: list[int] = []
    refine = detector.refine

    def counted_refine(frames, boxes):
        refined.append(len(frames))
        return refine(frames, boxes)

    monkeypatch.setattr(detector, "refine", counted_refine)
    return refined


def _with_stride(monkeypatch, stride: int, analyse):
    monkeypatch.setattr(pipeline, "TRACK_STRIDE", stride)
    return json.loads(json.dumps(analyse().to_dict()))


@pytest.mark.slow
def test_frames_between_key_frames_match_onet_on_every_frame(
    detector, pretrained, astronaut, tmp_path, monkeypatch
):
    path = encode_clip(tmp_path / "alone.webm", patient_clip(astronaut, seconds=2.0, fps=30), 30)
    refined = _count_refined_frames(monkeypatch, detector)
    every = _with_stride(monkeypatch, 1, lambda: pipeline.analyse_clip(path, pretrained, detector))
    onet_every = sum(refined)
    refined.clear()
    keyed = _with_stride(monkeypatch, 2, lambda: pipeline.analyse_clip(path, pretrained, detector))
    assert sum(refined) <= onet_every * 0.6  # ONet ran on about half the frames
    assert keyed["frames_with_face"] == every["frames_with_face"] == 60
    for a, b in zip(every["frames"], keyed["frames"], strict=True):
        # A few pixels where the sway jumps back between two frames (boxes here are ~100 px).
        assert max(abs(x - y) for x, y in zip(a["box"], b["box"], strict=True)) <= 6
        assert max(abs(a["probabilities"][k] - b["probabilities"][k]) for k in a["probabilities"]) < 0.02
    distribution = every["summary"]["distribution"]
    assert all(abs(distribution[k] - keyed["summary"]["distribution"][k]) < 0.005 for k in distribution)


@pytest.mark.slow
def test_a_face_hidden_for_a_few_frames_is_lost_there_and_only_there(
    detector, pretrained, astronaut, tmp_path, monkeypatch
):
    frames = patient_clip(astronaut, seconds=2.0, fps=30)
    hidden = range(21, 26)  # a hand over the face: odd and even frames, never interpolated over
    for index in hidden:
        frames[index] = frames[index].copy()
        frames[index].paste((200, 170, 150), (30, 30, 200, 205))
    path = encode_clip(tmp_path / "hand.webm", frames, 30)
    for stride in (1, 2):
        data = _with_stride(monkeypatch, stride, lambda: pipeline.analyse_clip(path, pretrained, detector))
        lost = [frame["index"] for frame in data["frames"] if frame["box"] is None]
        assert lost == list(hidden), stride


@pytest.mark.slow
def test_a_slow_clip_is_refined_on_every_frame(detector, pretrained, astronaut, tmp_path, monkeypatch):
    """At 15 fps two key frames are 0.13 s apart: too far to interpolate a moving face."""
    path = encode_clip(tmp_path / "slow.webm", patient_clip(astronaut, seconds=2.0), FPS)
    refined = _count_refined_frames(monkeypatch, detector)
    keyed = _with_stride(monkeypatch, 2, lambda: pipeline.analyse_clip(path, pretrained, detector))
    assert keyed["frames_with_face"] == 30 and sum(refined) >= 30
    every = _with_stride(monkeypatch, 1, lambda: pipeline.analyse_clip(path, pretrained, detector))
    assert keyed["frames"] == every["frames"] and keyed["summary"] == every["summary"]
