"""The clip path of this tree against an earlier commit's, alternating in one process (LiteRT).

Run:  .venv/bin/python bench/bench_clip_paths.py [--baseline 461879e] [--repeat 8]
Prints CPU time (`time.process_time`, this process's threads included) and wall time of
`analyse_clip` on the benchmark clips (bench/webcam_clip.py) for: the baseline commit's
`app/ml` + `app/plugins` (taken with `git archive`, imported as a separate package), this
tree, this tree without the periodic face count, and this tree with ONet on every frame (no
interpolated frames between key frames). The runs alternate, so a busy machine slows all of
them alike; read the best and the paired ratio, and check the load average.
Also says whether each path's per-frame results and display crop equal the baseline's, and if
not, by how much they differ (boxes in pixels, probabilities, the summary).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import webcam_clip  # noqa: E402

BASELINE_PACKAGE = "baseline_app"
# Keys that the baseline may lack or that differ by design (timings, the face count).
NOT_COMPARED = ("timings_ms", "face_counts", "several_faces_at", "max_faces_seen", "status")


def baseline_package(revision: str, folder: Path) -> None:
    """`app/ml` and `app/plugins` of `revision` as the package `baseline_app` under `folder`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "app/ml", "app/plugins"],
        capture_output=True, check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "app").rename(folder / BASELINE_PACKAGE)
    (folder / BASELINE_PACKAGE / "__init__.py").write_text("")
    for source in (folder / BASELINE_PACKAGE).rglob("*.py"):
        text = re.sub(r"\b(from|import) app\b", rf"\1 {BASELINE_PACKAGE}", source.read_text())
        source.write_text(text)
    sys.path.insert(0, str(folder))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="461879e", help="commit whose clip path to compare with")
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-clip-"))
    baseline_package(args.baseline, scratch / "baseline")
    from baseline_app.ml import pipeline as old_pipeline
    from baseline_app.ml.backends import get_face_detector as old_detector
    from baseline_app.plugins import get_plugin as old_plugin

    from app.ml import mtcnn_litert, pipeline
    from app.ml.backends import KERAS, LITERT, get_face_detector
    from app.plugins import DEFAULT_PLUGIN, get_plugin

    models = scratch / "models"
    get_plugin(DEFAULT_PLUGIN, models, backend=KERAS).convert_to_litert()
    mtcnn_litert.convert_stages(models)
    clips = {
        "easy (drifting)": webcam_clip.easy_clip(scratch / "easy.webm"),
        "webcam-like": webcam_clip.webcam_clip(scratch / "webcam.webm"),
    }
    old = (old_plugin(DEFAULT_PLUGIN, models, backend=LITERT), old_detector(640, LITERT, models))
    new = (get_plugin(DEFAULT_PLUGIN, models, backend=LITERT), get_face_detector(640, LITERT, models))

    def without_count(clip):
        saved, pipeline.FACE_COUNT_EVERY_SECONDS = pipeline.FACE_COUNT_EVERY_SECONDS, float("inf")
        try:
            return pipeline.analyse_clip(clip, *new)
        finally:
            pipeline.FACE_COUNT_EVERY_SECONDS = saved

    def onet_every_frame(clip):
        saved, pipeline.TRACK_STRIDE = pipeline.TRACK_STRIDE, 1
        try:
            return pipeline.analyse_clip(clip, *new)
        finally:
            pipeline.TRACK_STRIDE = saved

    paths = {
        f"baseline {args.baseline}": lambda clip: old_pipeline.analyse_clip(clip, *old),
        "this tree": lambda clip: pipeline.analyse_clip(clip, *new),
        "this tree, no face count": without_count,
        "this tree, ONet on every frame": onet_every_frame,
    }
    print(f"- load average (1, 5, 15 min) at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print()
    print("| clip | path | CPU best | CPU median | wall best | wall median | CPU / baseline (paired median) "
          "| frames with a face | full detections | face counts | faces seen | several faces at (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    for name, clip in clips.items():
        results = {path: run(clip) for path, run in paths.items()}  # warm-up
        cpu = {path: [] for path in paths}
        wall = {path: [] for path in paths}
        for _ in range(args.repeat):
            for path, run in paths.items():
                started_cpu, started = time.process_time(), time.perf_counter()
                results[path] = run(clip)
                cpu[path].append(time.process_time() - started_cpu)
                wall[path].append(time.perf_counter() - started)
        baseline = next(iter(paths))
        for path in paths:
            data = results[path].to_dict()
            ratio = statistics.median(a / b for a, b in zip(cpu[path], cpu[baseline], strict=True))
            print(
                f"| {name} | {path} | {min(cpu[path]):.3f} s | {statistics.median(cpu[path]):.3f} s "
                f"| {min(wall[path]):.3f} s | {statistics.median(wall[path]):.3f} s | {ratio:.2f} "
                f"| {data['frames_with_face']}/{data['frames_decoded']} | {data['full_detections']} "
                f"| {data.get('face_counts', '–')} | {data['max_faces_seen']} "
                f"| {', '.join(map(str, data.get('several_faces_at', []))) or '–'} |"
            )
        for path in list(paths)[1:]:
            notes.append(f"- {name}, {path}: {difference(results[path], results[baseline])}")
    print()
    print("\n".join(notes))
    print(f"- load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def comparable(result) -> tuple[dict, bytes | None]:
    return {k: v for k, v in result.to_dict().items() if k not in NOT_COMPARED}, result.primary_crop_jpeg


def difference(result, baseline) -> str:
    """How far a path's result is from the baseline's: equal, or by how much it differs."""
    if comparable(result) == comparable(baseline):
        return "frames, boxes, probabilities, summary and crop equal the baseline's"
    ours, theirs = result.to_dict(), baseline.to_dict()
    boxes, probabilities, presence = [], [], 0
    for a, b in zip(ours["frames"], theirs["frames"], strict=True):
        if (a["box"] is None) != (b["box"] is None):
            presence += 1
        elif a["box"] is not None:
            boxes.append(max(abs(x - y) for x, y in zip(a["box"], b["box"], strict=True)))
            probabilities.append(max(abs(v - b["probabilities"][k]) for k, v in a["probabilities"].items()))
    distribution = theirs["summary"]["distribution"]
    summary = max(abs(v - distribution[k]) for k, v in ours["summary"]["distribution"].items())
    return (f"frames with a face differ on {presence}; per frame, box max {max(boxes)} px (median "
            f"{statistics.median(boxes)}), probability max {max(probabilities):.4f} (median "
            f"{statistics.median(probabilities):.4f}); summary distribution max {summary:.4f}; "
            f"indicator {ours['summary']['indicator']} vs {theirs['summary']['indicator']}")


if __name__ == "__main__":
    main()
