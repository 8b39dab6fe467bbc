"""CloudFormation's end of the ResponseURL, for the requests the demo sends itself.

A small HTTP server on 127.0.0.1 (a free port) stands in for the pre-signed S3 URL of
each Update and Delete: it records every PUT, checks it against the custom-resource
protocol, and lets the driver wait for the answer to one request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .local_lambda import ProtocolError, check_response

MAX_BODY_BYTES = 4096


class ResponseRecorder:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.violations: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the recorder is not running"
        return int(self._server.server_address[1])

    def url_for(self, key: str) -> str:
        """A ResponseURL for one request; the query plays the pre-signed signature."""
        return f"http://127.0.0.1:{self.port}/responses/{key}?X-Amz-Signature=local-only"

    def __enter__(self) -> ResponseRecorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                key = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
                recorder._record(key, body, self.headers.get("Content-Type"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo reports responses itself."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = False  # server_close() joins the request threads
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="response-recorder",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _record(self, key: str, body: bytes, content_type: str | None) -> None:
        problems = []
        if len(body) > MAX_BODY_BYTES:
            problems.append(f"body of {len(body)} bytes")
        if content_type not in (None, ""):
            problems.append(f"Content-Type {content_type!r} (S3 pre-signed PUTs need none)")
        try:
            parsed = json.loads(body)
            check_response(parsed)
        except (ValueError, ProtocolError) as exc:
            problems.append(str(exc))
            parsed = {"Status": "INVALID", "Reason": str(exc)}
        with self._lock:
            self.violations.extend(f"{key}: {p}" for p in problems)
            self.responses.setdefault(key, []).append(parsed)
            self._lock.notify_all()

    def wait(
        self, key: str, timeout: float, tick: Callable[[], None] | None = None
    ) -> dict[str, Any] | None:
        """The first response to ``key``, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.responses.get(key):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(min(left, 0.1))
                if tick is not None:
                    self._lock.release()
                    try:
                        tick()
                    finally:
                        self._lock.acquire()
            return self.responses[key][0]
