"""Live nudges over Redis pub/sub: "something new in this chat" or "this screening's analysis
moved on".

A nudge carries no content. The browser answers it by fetching the news from the ordinary
endpoint (the chat's messages, the screening's progress fragment), which checks access again,
so a stream can never show more than the page it feeds. Publishing goes through Redis so that
every web process and RQ worker reaches the readers connected to any web process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import redis
from flask import current_app

from app.jobs.queue import get_redis


def chat_channel(consultation_id: int) -> str:
    return f"moodlens:live:chat:{consultation_id}"


def screening_channel(screening_id: int) -> str:
    return f"moodlens:live:screening:{screening_id}"


def publish(channel: str, data: str = "") -> None:
    try:
        get_redis().publish(channel, data)
    except redis.RedisError:  # the readers' fallback poll still brings the news
        current_app.logger.warning("could not publish a live nudge on %s", channel)


def nudges(connection: redis.Redis, channel: str, event: str, *, lifetime: float,
           heartbeat: float) -> Iterator[str]:
    """Server-sent events for one reader: an `event: <event>` per nudge, a comment line every
    `heartbeat` seconds (a reader that has gone away is noticed when that write fails, which
    closes this generator and its subscription), and an end after `lifetime` seconds so no
    stream holds a server thread for ever; EventSource reconnects and access is checked anew."""
    pubsub = connection.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel)
        yield "retry: 1000\n: connected\n\n"
        deadline = time.monotonic() + lifetime
        next_beat = time.monotonic() + heartbeat
        while (now := time.monotonic()) < deadline:
            message = pubsub.get_message(timeout=max(0.0, min(next_beat, deadline) - now))
            if message is not None:
                data = message["data"]
                data = data.decode() if isinstance(data, bytes) else str(data)
                yield f"event: {event}\ndata: {data or 'new'}\n\n"
            elif time.monotonic() >= next_beat:
                next_beat = time.monotonic() + heartbeat
                yield ": heartbeat\n\n"
        yield "event: end\ndata: lifetime\n\n"
    except redis.RedisError:
        yield "event: end\ndata: unavailable\n\n"  # the reader falls back to polling
    finally:
        pubsub.close()
