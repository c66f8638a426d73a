"""Speed shortcuts in the face path must not change a pixel or a face."""

import io

import numpy as np
import pytest
from PIL import Image

from app.ml.faces import FaceDetector, aligned_crop
from app.ml.media import decode_image


@pytest.mark.parametrize("seed", range(5))
def test_a_crop_from_a_frame_equals_the_crop_from_the_whole_image(seed):
    # Frames are cropped from the region the rotated square can reach; a PIL image is cropped
    # whole. Boxes run off every edge of the frame.
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    for _ in range(60):
        x1, y1, side = rng.uniform(-150, 620), rng.uniform(-150, 460), rng.uniform(8, 500)
        box = np.array([x1, y1, x1 + side, y1 + side], np.float32)
        eyes = ((x1 + side * 0.3, y1 + side * rng.uniform(0.2, 0.6)), (x1 + side * 0.7, y1 + side * 0.4))
        options = {"size": 64, "zoom": rng.uniform(0.8, 1.2), "shift": (0.05, -0.05)}
        options["mirror"] = bool(seed % 2)
        from_frame = aligned_crop(frame, box, eyes, **options)
        from_image = aligned_crop(Image.fromarray(frame), box, eyes, **options)
        assert np.array_equal(from_frame, from_image)


def jpeg(width, height):
    gradient = np.linspace(0, 255, width * height * 3).reshape(height, width, 3).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gradient).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_large_jpeg_is_decoded_at_the_smallest_scale_that_keeps_the_long_side():
    assert decode_image(jpeg(1920, 1080), long_side=640).size == (960, 540)
    assert decode_image(jpeg(4000, 3000), long_side=640).size == (1000, 750)
    # Never below the requested side, never scaled up, full size without the option.
    assert decode_image(jpeg(1000, 700), long_side=640).size == (1000, 700)
    assert decode_image(jpeg(512, 512), long_side=640).size == (512, 512)
    assert decode_image(jpeg(1920, 1080)).size == (1920, 1080)


def test_the_pyramid_starts_at_a_tenth_of_the_short_side_but_never_below_the_minimum_face():
    detector = FaceDetector(min_face_size=20, min_face_fraction=0.1)
    assert detector._scales(640, 480)[0] == pytest.approx(12 / 48)
    assert detector._scales(160, 120)[0] == pytest.approx(12 / 20)
    assert FaceDetector(min_face_fraction=0)._scales(640, 480)[0] == pytest.approx(12 / 20)
