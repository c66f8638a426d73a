"""Face-analysis speed and memory, each beside the naive baseline, measured in one process.

Run:  .venv/bin/python bench/bench_face_analysis.py [--naive-clip-frames 30]
Prints a Markdown report (machine details first) for docs/benchmarks.md.

Naive baseline = `mtcnn.MTCNN().detect_faces` as shipped + `model.predict` per face
(the straightforward way to use the two packages).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import av  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from app.ml.faces import get_face_detector  # noqa: E402
from app.ml.pipeline import analyse_clip, analyse_photo  # noqa: E402
from app.plugins import DEFAULT_PLUGIN, get_plugin  # noqa: E402


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


def make_clip(path: Path, face: Image.Image, seconds: int = 10, fps: int = 30) -> None:
    head = face.crop((120, 0, 340, 230)).resize((300, 314))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx-vp9", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for i in range(seconds * fps):
            frame = Image.new("RGB", (640, 480), (70, 80, 90))
            frame.paste(head, (170 + int(12 * np.sin(i / 15)), 80 + int(6 * np.cos(i / 20))))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


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
    import tensorflow as tf

    return (
        f"- `nproc`: {os.cpu_count()} (affinity {len(os.sched_getaffinity(0))}); CPU: {cpu}\n"
        f"- load average at start {os.getloadavg()[0]:.1f} (the cores are shared)\n"
        f"- Python {platform.python_version()}, TensorFlow {tf.__version__}, {platform.platform()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--naive-clip-frames", type=int, default=30, help="frames timed for the naive clip (extrapolated)"
    )
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    start = time.perf_counter()
    plugin = get_plugin(DEFAULT_PLUGIN, Path(tempfile.mkdtemp()))
    detector = get_face_detector()
    astronaut = Image.fromarray(data.astronaut())
    photo_512 = jpeg(astronaut)
    photo_1080 = jpeg(astronaut.resize((1080, 1080)).crop((0, 0, 1080, 1080)).resize((1920, 1080)))
    analyse_photo(photo_512, plugin, detector)
    cold_s = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from mtcnn import MTCNN

    naive_detector = MTCNN()
    model = plugin.model
    rows = []
    for name, photo in (
        ("photo 512×512 (decode→detect→crop→classify)", photo_512),
        ("photo 1920×1080", photo_1080),
    ):
        ours = timed(lambda p=photo: analyse_photo(p, plugin, detector), args.repeat)
        naive = timed(lambda p=photo: naive_photo(model, naive_detector, p), max(3, args.repeat // 3))
        rows.append((name, f"{ours:.0f} ms", f"{naive:.0f} ms"))

    face = np.asarray(astronaut.crop((170, 50, 280, 180)).resize((64, 64)))
    ours_face = timed(lambda: plugin.predict_batch([face]), 50)
    grey = ((np.asarray(Image.fromarray(face).convert("L"), np.float32) / 127.5) - 1)[None, ..., None]
    naive_face = timed(lambda: model.predict(grey, verbose=0), 20)
    rows.append(("classify one face", f"{ours_face:.1f} ms", f"{naive_face:.1f} ms (`model.predict`)"))

    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(scratch) / "clip.webm"
        make_clip(clip, astronaut)
        analyse_clip(clip, plugin, detector)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = analyse_clip(clip, plugin, detector)
            runs.append(time.perf_counter() - t0)
        ours_clip = statistics.median(runs)
        t0 = time.perf_counter()
        for index, frame in enumerate(av.open(str(clip)).decode(video=0)):
            if index >= args.naive_clip_frames:
                break
            rgb = frame.to_ndarray(format="rgb24")
            for found in naive_detector.detect_faces(rgb):
                x, y, w, h = found["box"]
                crop = (
                    Image.fromarray(rgb[max(0, y) : y + h, max(0, x) : x + w]).convert("L").resize((64, 64))
                )
                model.predict(((np.asarray(crop, np.float32) / 127.5) - 1)[None, ..., None], verbose=0)
        naive_clip = (time.perf_counter() - t0) * 300 / args.naive_clip_frames
    summary = result.to_dict()
    rows.append(
        (
            "clip 10 s, 30 fps, 640×480 webm, every frame",
            f"{ours_clip:.2f} s ({summary['frames_with_face']}/300 frames classified, "
            f"{summary['full_detections']} full detections; "
            f"{', '.join(f'{k} {v / 1000:.2f} s' for k, v in summary['timings_ms'].items())})",
            f"{naive_clip:.1f} s (timed on {args.naive_clip_frames} frames, "
            f"×{300 // args.naive_clip_frames})",
        )
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(machine())
    print()
    print("| benchmark | MoodLens | naive baseline |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(
        f"- Cold start (imports, detector, plugin, first photo): {cold_s:.1f} s; "
        f"peak RSS then {rss_mb:.0f} MB."
    )
    print(
        f"- Peak RSS of the whole benchmark process (both pipelines loaded, clip analysed): {peak_mb:.0f} MB."
    )


if __name__ == "__main__":
    main()
