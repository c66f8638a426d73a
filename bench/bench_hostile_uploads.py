"""Peak memory of a real gunicorn web worker while patients upload hostile clips.

    .venv/bin/python bench/bench_hostile_uploads.py [--app-dir DIR] [--vp8 FILE] [--parallel 3]
    .venv/bin/python bench/bench_hostile_uploads.py --make-vp8 /tmp/lying16000.webm

Starts `gunicorn --worker-class gthread --workers 1 --threads 4 wsgi:app` from --app-dir (this
checkout by default; point it at an export of an older commit for a baseline from the same
run) on a temporary SQLite database and instance folder, logs a consenting patient in, and
uploads each clip through /screenings/new. Before each case the worker's peak RSS is reset
(/proc/PID/clear_refs) and afterwards VmHWM - VmRSS(before) is reported: how far that one
upload grew the web process. Clips:

- honest: a 10-frame 64x64 clip (the baseline a normal upload costs);
- mjpeg-huge-first / mjpeg-huge-mid: tests/ml/hostile_clips.py (16000x16000 frames from the
  first frame, or after five small ones), ~3 MB each;
- vp8-lying (with --vp8): a VP8 webm whose Matroska header says 64x64 while its one frame is
  16000x16000 (the clip from the security report). --make-vp8 writes one: encoding needs
  ~8 GB of memory and a minute, so it is made once and passed in.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ml import hostile_clips  # noqa: E402

CALM = [0, 1, 0, 1, 0, 0, 1, 0, 0]
SETUP = """
from app import create_app
from app.extensions import db
from app.services import accounts, consent
app = create_app()
with app.app_context():
    db.create_all()
    user = accounts.register_patient("bench@example.org", "a long enough passphrase", "Bench", None)
    consent.grant(user)
"""


def make_lying_vp8(size: int = 16000, claimed: int = 64) -> bytes:
    """Encode one real size x size VP8 frame, then mux it under a header that claims 64x64."""
    import av

    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width = encoder.height = size
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 10)
    encoder.options = {"deadline": "realtime", "cpu-used": "16", "lag-in-frames": "0", "auto-alt-ref": "0"}
    frame = av.VideoFrame(size, size, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    frame.pts = 0
    packets = list(encoder.encode(frame)) + list(encoder.encode(None))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=10)
        stream.width = stream.height = claimed
        stream.pix_fmt = "yuv420p"
        for index, encoded in enumerate(packets):
            packet = av.Packet(bytes(encoded))
            packet.pts = packet.dts = index
            packet.time_base = Fraction(1, 10)
            packet.stream = stream
            packet.is_keyframe = encoded.is_keyframe
            out.mux(packet)
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


def _worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def _login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/auth/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = session.post(f"{base}/auth/login", allow_redirects=False, data={
        "email": "bench@example.org", "password": "a long enough passphrase", "csrf_token": token})
    assert response.status_code == 302, response.text[:300]
    return session


def _upload(session: requests.Session, base: str, clip: bytes) -> int:
    page = session.get(f"{base}/screenings/new").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "difficulty": "1", **{f"q{n}": str(v) for n, v in enumerate(CALM, 1)}}
    response = session.post(f"{base}/screenings/new", data=data, allow_redirects=False,
                            files={"media": ("clip.webm", clip, "video/webm")})
    return response.status_code


def run(app_dir: Path, clips: dict[str, bytes], parallel: int) -> list[tuple[str, int, str, float, float]]:
    with tempfile.TemporaryDirectory(prefix="moodlens-bench-") as tmp:
        env = {**os.environ, "MOODLENS_ENV": "development", "MOODLENS_INSTANCE_PATH": f"{tmp}/instance",
               "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "PYTHONDONTWRITEBYTECODE": "1",
               "LOGIN_RATE_LIMIT_PER_IP": "1000 per minute"}
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "-c", SETUP], cwd=app_dir, env=env, check=True)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--worker-class", "gthread", "--workers", "1",
             "--threads", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
            cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            worker = _worker_pid(server.pid)
            for _ in range(300):  # the first request also starts the embedded Redis
                try:
                    requests.get(f"{base}/auth/login", timeout=60)
                    break
                except requests.ConnectionError:
                    time.sleep(0.2)
            session = _login(base)
            _upload(session, base, clips["honest"])  # warm up: imports, first decode, Redis
            results = []
            for name, clip in clips.items():
                for copies in sorted({1, parallel}):
                    Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset the peak (VmHWM)
                    before = _kb(worker, "VmRSS")
                    statuses: list[int] = []
                    def upload(clip=clip, statuses=statuses):
                        statuses.append(_upload(session, base, clip))

                    threads = [threading.Thread(target=upload) for _ in range(copies)]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    peak = _kb(worker, "VmHWM")
                    results.append((name, copies, ",".join(map(str, sorted(statuses))),
                                    before / 1024, (peak - before) / 1024))
            return results
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app-dir", type=Path, default=ROOT)
    parser.add_argument("--vp8", type=Path, help="a lying VP8 webm made with --make-vp8")
    parser.add_argument("--make-vp8", type=Path, metavar="PATH")
    parser.add_argument("--parallel", type=int, default=3)
    args = parser.parse_args()
    if args.make_vp8:
        args.make_vp8.write_bytes(make_lying_vp8())
        print(f"wrote {args.make_vp8} ({args.make_vp8.stat().st_size} bytes)")
        return
    clips = {"honest": hostile_clips.honest(), "mjpeg-huge-first": hostile_clips.huge_from_the_start(),
             "mjpeg-huge-mid": hostile_clips.huge_mid_stream()}
    if args.vp8:
        clips["vp8-lying"] = args.vp8.read_bytes()
    print(f"app: {args.app_dir}")
    print("| clip | uploads at once | HTTP status | worker RSS before (MB) | peak growth (MB) |")
    print("|---|---|---|---|---|")
    for name, copies, statuses, before, growth in run(args.app_dir.resolve(), clips, args.parallel):
        print(f"| {name} | {copies} | {statuses} | {before:.0f} | {growth:.0f} |")


if __name__ == "__main__":
    main()
