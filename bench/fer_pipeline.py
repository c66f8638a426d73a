"""The `fer` package's own pipeline on the benchmark's JPEGs, for comparison in the same run.

Runs under the benchmark-only interpreter that has `fer` (PyTorch MTCNN + its emotion model):
    .venv-fer/bin/python bench/fer_pipeline.py --repeat 15 photo1.jpg photo2.jpg
Prints one JSON object: per photo, the median milliseconds of decode → detect → classify, and
the number of faces found. `make bench` builds that interpreter from requirements-bench-fer.txt.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from fer.fer import FER  # noqa: E402
from PIL import Image  # noqa: E402


def analyse(detector: FER, data: bytes) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return len(detector.detect_emotions(rgb))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("photos", nargs="+")
    args = parser.parse_args()
    detector = FER(mtcnn=True)
    results = {}
    for path in args.photos:
        data = open(path, "rb").read()
        faces = analyse(detector, data)
        samples = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            analyse(detector, data)
            samples.append((time.perf_counter() - start) * 1000)
        results[path] = {"median_ms": statistics.median(samples), "faces": faces}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
