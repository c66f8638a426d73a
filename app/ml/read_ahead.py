"""Run a producer (a clip's decoder) on its own thread, a bounded step ahead of its consumer.

FFmpeg's decoding and swscale, LiteRT's `Invoke` and NumPy's large operations all release the
GIL, so while the networks work on one chunk of frames the next one is being decoded. On an
idle node a patient's clip is ready sooner; on a busy one the CPU work is the same as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

# How long the producer waits for room before checking whether it should stop.
_POLL_SECONDS = 0.1
_DONE = object()


def read_ahead(items: Iterator[T], depth: int = 1, name: str = "read-ahead") -> Iterator[T]:
    """Yield what `items` yields, produced on a thread at most `depth` items ahead.

    The producer starts on an item only when fewer than `depth` wait untaken, so at most
    `depth` items exist besides the one the consumer holds (memory stays bounded by the
    item's size). An exception raised by `items` is raised here after the items before it,
    as if it were iterated in this thread. Closing this generator (or leaving it by an
    exception) stops the thread and closes `items`: a failed job leaves no decoder behind.
    """
    buffer: queue.SimpleQueue = queue.SimpleQueue()
    room = threading.Semaphore(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                while not room.acquire(timeout=_POLL_SECONDS):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(items, _DONE)
                buffer.put((item, None))
                if item is _DONE:
                    return
        except BaseException as error:  # re-raised in the consumer, where it belongs
            buffer.put((None, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            room.release()
            yield item
    finally:
        stop.set()
        thread.join()
