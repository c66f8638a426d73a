"""Face-analysis speed and memory: LiteRT (serving), Keras, the naive baseline and `fer`, in one run.

Run:  .venv/bin/python bench/bench_face_analysis.py [--repeat 15] [--naive-clip-frames 30]
          [--fer-python .venv-fer/bin/python]
Prints a Markdown report (machine details first) for docs/benchmarks.md.

- LiteRT: what a worker serves with (`ML_BACKEND=litert`): MTCNN stages and the classifier
  converted to float32 `.tflite` (done here first, into a temporary models folder).
- Keras: the same pipeline with TensorFlow stages (`ML_BACKEND=keras`; the fallback).
- Naive: `mtcnn.MTCNN().detect_faces` as shipped + `model.predict` per face.
- fer: the `fer` package's own pipeline (PyTorch MTCNN + its emotion model) on the same JPEGs,
  in its own interpreter (bench/fer_pipeline.py; `make bench` builds it).
Clips: the easy drifting clip and the webcam-like one (bench/webcam_clip.py), every frame;
wall time (median of 3) and CPU time (best of 3), re-detections, the periodic face counts and
when a second face was seen. bench/bench_clip_paths.py compares the clip path with an
earlier commit's in one process.
Cold start and peak memory are measured in fresh subprocesses (one per runtime), as a
worker would start.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import webcam_clip  # noqa: E402
from PIL import Image  # noqa: E402

# A fresh process: imports, models, first photo — what a worker pays before its first result.
COLD_START = """
import os, sys, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
from app.ml.backends import get_face_detector
from app.ml.pipeline import analyse_photo
from app.plugins import DEFAULT_PLUGIN, get_plugin
models = Path({models!r})
plugin = get_plugin(DEFAULT_PLUGIN, models, backend={backend!r})
detector = get_face_detector(backend={backend!r}, models_dir=models)
result = analyse_photo(open({photo!r}, "rb").read(), plugin, detector)
assert result.status == "one" and plugin.runtime == detector.backend == {backend!r}
cold = time.perf_counter() - start
analyse_photo(open({photo!r}, "rb").read(), plugin, detector)
from app.ml.pipeline import analyse_clip
analyse_clip({clip!r}, plugin, detector)
# VmHWM, not ru_maxrss: the latter keeps the high-water mark of the (large) parent before exec.
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(cold, peak, "tensorflow" in sys.modules)
"""


def timed(fn, repeat: int) -> float:
    """Median milliseconds over `repeat` warm runs."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def naive_photo(model, detector, data_bytes: bytes) -> None:
    rgb = np.asarray(Image.open(io.BytesIO(data_bytes)).convert("RGB"))
    for face in detector.detect_faces(rgb):
        x, y, w, h = face["box"]
        crop = Image.fromarray(rgb[max(0, y) : y + h, max(0, x) : x + w]).convert("L").resize((64, 64))
        model.predict(((np.asarray(crop, np.float32) / 127.5) - 1)[None, ..., None], verbose=0)


def machine() -> str:
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if "model name" in line
            ),
            cpu,
        )
    import ai_edge_litert
    import tensorflow as tf

    return (
        f"- `nproc`: {os.cpu_count()} (affinity {len(os.sched_getaffinity(0))}); CPU: {cpu}\n"
        f"- load average (1, 5, 15 min) at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
        "(the cores are shared with other engineers' work)\n"
        f"- Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"ai-edge-litert {getattr(ai_edge_litert, '__version__', '2.3.0')}, {platform.platform()}"
    )


def clip_cell(runs: list[float], cpu: list[float], summary: dict) -> str:
    timings = ", ".join(f"{k} {v / 1000:.2f} s" for k, v in summary["timings_ms"].items() if k != "total")
    several = ", ".join(f"{t:.1f}" for t in summary["several_faces_at"])
    another = f", another face at {several} s" if several else ""
    return (
        f"{statistics.median(runs):.2f} s, CPU {min(cpu):.2f} s best "
        f"({summary['frames_with_face']}/{summary['frames_decoded']} frames "
        f"with a face, {summary['full_detections']} full re-detections, "
        f"{summary['face_counts']} face counts, up to {summary['max_faces_seen']} faces{another}; "
        f"{timings})"
    )


def cold_start(backend: str, models: Path, photo: Path, clip: Path) -> str:
    code = COLD_START.format(
        root=str(ROOT), models=str(models), backend=backend, photo=str(photo), clip=str(clip)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, rss, tensorflow = out.split()
    return (
        f"{float(seconds):.2f} s; peak RSS {float(rss):.0f} MB after a photo and a clip; "
        f"TensorFlow imported: {tensorflow}"
    )


def fer_photos(fer_python: Path, photos: list[Path], repeat: int) -> dict:
    """Median ms per photo through `fer`, or {} when its interpreter is not built."""
    if not fer_python.exists():
        return {}
    out = subprocess.run(
        [str(fer_python), str(ROOT / "bench" / "fer_pipeline.py"), "--repeat", str(repeat),
         *map(str, photos)],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--naive-clip-frames", type=int, default=30, help="frames timed for the naive clip")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--fer-python", type=Path, default=ROOT / ".venv-fer" / "bin" / "python")
    args = parser.parse_args()

    from app.ml import mtcnn_litert
    from app.ml.backends import KERAS, LITERT, get_face_detector
    from app.ml.pipeline import analyse_clip, analyse_photo
    from app.plugins import DEFAULT_PLUGIN, get_plugin

    print(machine(), flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-face-"))
    models = scratch / "models"
    started = time.perf_counter()
    keras_plugin = get_plugin(DEFAULT_PLUGIN, models, backend=KERAS)
    mtcnn_litert.convert_stages(models)
    keras_plugin.convert_to_litert()
    conversion_s = time.perf_counter() - started

    astronaut = webcam_clip.astronaut()
    photos = {
        "photo 512×512 (decode→detect→crop→classify, 6 views)": jpeg(astronaut),
        "photo 1920×1080": jpeg(astronaut.resize((1080, 1080)).crop((0, 0, 1080, 1080)).resize((1920, 1080))),
    }
    photo_files = []
    for index, photo in enumerate(photos.values()):
        photo_files.append(scratch / f"photo{index}.jpg")
        photo_files[-1].write_bytes(photo)
    fer = fer_photos(args.fer_python, photo_files, args.repeat)
    easy = webcam_clip.easy_clip(scratch / "easy.webm")
    webcam = webcam_clip.webcam_clip(scratch / "webcam.webm")

    runtimes = {
        LITERT: (get_plugin(DEFAULT_PLUGIN, models, backend=LITERT), get_face_detector(640, LITERT, models)),
        KERAS: (keras_plugin, get_face_detector(640, KERAS, models)),
    }
    for plugin, detector in runtimes.values():
        assert plugin.runtime == detector.backend

    from mtcnn import MTCNN

    naive_detector = MTCNN()
    model = keras_plugin.keras_model()
    rows: list[tuple[str, ...]] = []
    for (name, photo), photo_file in zip(photos.items(), photo_files, strict=True):
        cells = [
            f"{timed(lambda p=photo, r=r: analyse_photo(p, *r), args.repeat):.1f} ms"
            for r in runtimes.values()
        ]
        naive = timed(lambda p=photo: naive_photo(model, naive_detector, p), max(3, args.repeat // 3))
        timing = fer.get(str(photo_file))
        fer_cell = f"{timing['median_ms']:.1f} ms ({timing['faces']} face)" if timing else "not built"
        rows.append((name, *cells, f"{naive:.0f} ms", fer_cell))

    face = np.asarray(astronaut.crop((170, 50, 280, 180)).resize((64, 64)))
    cells = [f"{timed(lambda p=p: p.predict_batch([face]), 200):.2f} ms" for p, _ in runtimes.values()]
    grey = ((np.asarray(Image.fromarray(face).convert("L"), np.float32) / 127.5) - 1)[None, ..., None]
    naive_face = timed(lambda: model.predict(grey, verbose=0), 20)
    rows.append(("classify one face", *cells, f"{naive_face:.1f} ms (`model.predict`)", "–"))

    for name, clip in (
        ("clip 10 s, 30 fps, 640×480, every frame — easy (drifting)", easy),
        ("clip 10 s, 30 fps, 640×480, every frame — webcam-like", webcam),
    ):
        cells = []
        for plugin, detector in runtimes.values():
            analyse_clip(clip, plugin, detector)
            runs, cpu, summary = [], [], None
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                summary = analyse_clip(clip, plugin, detector).to_dict()
                runs.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            cells.append(clip_cell(runs, cpu, summary))
        naive = "–"
        if clip is easy:
            import av

            t0 = time.perf_counter()
            for index, frame in enumerate(av.open(str(clip)).decode(video=0)):
                if index >= args.naive_clip_frames:
                    break
                rgb = frame.to_ndarray(format="rgb24")
                naive_photo(model, naive_detector, jpeg(Image.fromarray(rgb)))
            frames = args.naive_clip_frames
            seconds = (time.perf_counter() - t0) * 300 / frames
            naive = f"{seconds:.1f} s (on {frames} frames, ×{300 // frames})"
        rows.append((name, *cells, naive, "–"))

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print("| benchmark | LiteRT (serving) | Keras | naive baseline | `fer` package |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"- Conversion (`flask ml convert` work: 3 MTCNN stages + the classifier): {conversion_s:.1f} s")
    for backend in (LITERT, KERAS):
        print(f"- Cold start, {backend} (fresh process: imports, models, first photo): "
              f"{cold_start(backend, models, photo_files[0], webcam)}")
    print(f"- Peak RSS of this benchmark process (all three pipelines loaded): {peak_mb:.0f} MB")
    print(f"- load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(json.dumps({"webcam_events_s": webcam_clip.WEBCAM_EVENTS}))


if __name__ == "__main__":
    main()
