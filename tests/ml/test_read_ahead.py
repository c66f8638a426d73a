"""The clip decoder's read-ahead thread: same items, same errors, and no thread left behind."""

from __future__ import annotations

import threading
import time

import pytest

from app.ml import pipeline
from app.ml.media import ClipTooLong
from app.ml.read_ahead import read_ahead
from tests.samples import clip_webm


def _threads(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


def _source(log: list[str], count: int = 5, fail_at: int | None = None):
    try:
        for index in range(count):
            if index == fail_at:
                raise ValueError(f"broken at {index}")
            log.append(f"made {index}")
            yield index
    finally:
        log.append("closed")


def test_items_arrive_in_order_and_the_thread_ends():
    log: list[str] = []
    assert list(read_ahead(_source(log), name="t-order")) == [0, 1, 2, 3, 4]
    assert log[-1] == "closed"
    assert not _threads("t-order")


def test_an_error_comes_after_the_items_made_before_it():
    log: list[str] = []
    received = []
    with pytest.raises(ValueError, match="broken at 3"):
        for item in read_ahead(_source(log, fail_at=3), name="t-error"):
            received.append(item)
    assert received == [0, 1, 2]
    assert not _threads("t-error")


def test_the_producer_stays_a_bounded_step_ahead():
    log: list[str] = []
    items = read_ahead(_source(log, count=50), depth=1, name="t-bounded")
    assert next(items) == 0
    time.sleep(0.3)  # plenty of time to run ahead, were it unbounded
    # The one handed out, and the one made while it is being used: no more.
    assert [entry for entry in log if entry.startswith("made")] == ["made 0", "made 1"]
    items.close()
    assert log[-1] == "closed"
    assert not _threads("t-bounded")


def test_a_consumer_that_fails_stops_the_producer():
    log: list[str] = []
    with pytest.raises(RuntimeError):
        for item in read_ahead(_source(log, count=50), name="t-consumer"):
            if item == 2:
                raise RuntimeError("the networks failed")
    assert log[-1] == "closed"
    assert not _threads("t-consumer")


def test_a_clip_over_the_limit_is_refused_and_leaves_no_decoder(pretrained, detector):
    clip = clip_webm(seconds=3, fps=10, size=(320, 240))
    with pytest.raises(ClipTooLong):
        pipeline.analyse_clip(clip, pretrained, detector, max_seconds=1.0)
    assert not _threads("clip-decoder")
