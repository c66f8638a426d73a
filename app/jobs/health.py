"""A job that proves the web → Redis → worker → result round trip."""

import os
import socket


def ping(token: str) -> dict:
    return {"token": token, "worker_pid": os.getpid(), "host": socket.gethostname()}
