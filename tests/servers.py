"""The add-in server on a real loopback socket, in a background thread, for tests."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn

from kpi_xl.server import ServerConfig, create_app, uvicorn_config

ACCESS_KEY = "test-access-key-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(config: ServerConfig | None = None, port: int | None = None) -> Iterator[str]:
    """Serve create_app(config) on 127.0.0.1; yields the base URL (http://127.0.0.1:PORT)."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = config or ServerConfig(access_key=ACCESS_KEY, base_url=base_url)
    server = uvicorn.Server(uvicorn_config(create_app(config), "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
