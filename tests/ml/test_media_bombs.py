"""Video decompression bombs: FFmpeg is handed the pixel limit (max_pixels) and refuses a huge
frame before allocating it, whether it comes first or mid-stream; peak memory is measured in a
fresh process, where it is the decoder's and nothing else's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.ml import media
from tests.ml import hostile_clips

ROOT = Path(__file__).resolve().parents[2]
MEASURE = """
import json, resource, sys
from app.ml import media
from tests.ml import hostile_clips
data = getattr(hostile_clips, sys.argv[1])()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = "accepted"
try:
    frames = sum(1 for _ in media.decode_clip(data, threads=int(sys.argv[2])))
    outcome = f"accepted {frames} frames"
except media.MediaError as error:
    outcome = type(error).__name__
print(json.dumps({"outcome": outcome,
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""


def test_an_honest_clip_still_decodes():
    frames = list(media.decode_clip(hostile_clips.honest(), threads=1))
    assert len(frames) == 10 and frames[0].rgb.shape == (64, 64, 3)


@pytest.mark.parametrize("make", [hostile_clips.huge_from_the_start, hostile_clips.huge_mid_stream])
def test_huge_frames_are_refused_with_a_clear_message(make):
    with pytest.raises(media.VideoTooLarge) as raised:
        list(media.decode_clip(make()))
    assert "picture size is too large" in raised.value.message


def test_the_limit_is_a_parameter():
    clip = hostile_clips.clip([(64, 64)] * 2 + [(640, 480)])
    assert len(list(media.decode_clip(clip))) == 3
    with pytest.raises(media.VideoTooLarge):
        list(media.decode_clip(clip, max_frame_pixels=320 * 240))


@pytest.mark.parametrize("clip", ["huge_from_the_start", "huge_mid_stream"])
@pytest.mark.parametrize("threads", [1, 0])
def test_decoding_a_bomb_does_not_grow_the_process(clip, threads):
    result = subprocess.run([sys.executable, "-c", MEASURE, clip, str(threads)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=True)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["outcome"] == "VideoTooLarge"
    assert measured["growth_mb"] < 150, measured  # one 16000x16000 frame alone is 256 MB
