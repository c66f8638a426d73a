"""Live nudges over Redis pub/sub: "something new in this chat" or "this screening's analysis
moved on".

A nudge carries no content. The browser answers it by fetching the news from the ordinary
endpoint (the chat's messages, the screening's progress fragment), which checks access again,
so a stream can never show more than the page it feeds. Publishing goes through Redis so that
every web process and RQ worker reaches the readers connected to any web process.

A stream also ends as soon as its reader loses access (the patient stops sharing, the
consultation ends, the account is deactivated or logs out): it checks access again every few
seconds, and at once when `access_changed` nudges the reader's own channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import redis
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from app.jobs.queue import get_redis


def chat_channel(consultation_id: int) -> str:
    return f"moodlens:live:chat:{consultation_id}"


def screening_channel(screening_id: int) -> str:
    return f"moodlens:live:screening:{screening_id}"


def access_channel(user_id: int) -> str:
    return f"moodlens:live:access:{user_id}"


def publish(channel: str, data: str = "") -> None:
    try:
        get_redis().publish(channel, data)
    except redis.RedisError:  # the readers' fallback poll still brings the news
        current_app.logger.warning("could not publish a live nudge on %s", channel)


def access_changed(*user_ids: int) -> None:
    """Tell these users' open streams to check their access now (call after the commit that
    took it away, so the check sees it)."""
    for user_id in user_ids:
        publish(access_channel(user_id))


def nudges(connection: redis.Redis, channel: str, event: str, *, lifetime: float,
           heartbeat: float, reader_id: int, still_allowed: Callable[[], bool],
           recheck: float) -> Iterator[str]:
    """Server-sent events for one reader: an `event: <event>` per nudge, a comment line every
    `heartbeat` seconds (a reader that has gone away is noticed when that write fails, which
    closes this generator and its subscription), and an end after `lifetime` seconds so no
    stream holds a server thread for ever; EventSource reconnects and access is checked anew.

    `still_allowed` (see app/web/streams.py) is asked every `recheck` seconds and whenever
    `access_changed` nudges the reader: once it says no, the stream ends ("revoked") and the
    reconnecting EventSource meets the route's refusal."""
    pubsub = connection.pubsub(ignore_subscribe_messages=True)
    reader_channel = access_channel(reader_id)
    try:
        pubsub.subscribe(channel, reader_channel)
        yield "retry: 1000\n: connected\n\n"
        now = time.monotonic()
        deadline, next_beat, next_check = now + lifetime, now + heartbeat, now + recheck
        while (now := time.monotonic()) < deadline:
            wake = min(next_beat, next_check, deadline)
            message = pubsub.get_message(timeout=max(0.0, wake - now))
            nudged = message is not None and _text(message["channel"]) == reader_channel
            if nudged or time.monotonic() >= next_check:
                if not still_allowed():
                    yield "event: end\ndata: revoked\n\n"
                    return
                next_check = time.monotonic() + recheck
            if message is not None and not nudged:
                yield f"event: {event}\ndata: {_text(message['data']) or 'new'}\n\n"
            elif time.monotonic() >= next_beat:
                next_beat = time.monotonic() + heartbeat
                yield ": heartbeat\n\n"
        yield "event: end\ndata: lifetime\n\n"
    except (redis.RedisError, SQLAlchemyError):
        yield "event: end\ndata: unavailable\n\n"  # the reader falls back to polling
    finally:
        pubsub.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
