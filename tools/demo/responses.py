"""CloudFormation's end of the ResponseURL, for the requests the demo sends itself.

A small HTTP server on 127.0.0.1 (a free port) stands in for the pre-signed S3 URL of
each Update and Delete: it records every PUT and checks it against the custom-resource
protocol (``tools.emulator.protocol``). The driver waits for an answer on the virtual
clock, with ``response`` as the condition.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.emulator import ProtocolError, check_put


class ResponseRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.violations: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the recorder is not running"
        return int(self._server.server_address[1])

    def url_for(self, key: str, signed_at: float) -> str:
        """A ResponseURL for one request, shaped like CloudFormation's SigV4 pre-signed URL:
        signed at ``signed_at`` (epoch seconds of the virtual clock), valid two hours."""
        date = datetime.fromtimestamp(signed_at, UTC).strftime("%Y%m%dT%H%M%SZ")
        query = f"X-Amz-Date={date}&X-Amz-Expires=7200&X-Amz-Signature=local-only"
        return f"http://127.0.0.1:{self.port}/responses/{key}?{query}"

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
        problem = None
        try:
            parsed = check_put(body, content_type)
        except ProtocolError as exc:
            problem = f"{key}: {exc}"
            parsed = {"Status": "INVALID", "Reason": str(exc)}
        with self._lock:
            if problem:
                self.violations.append(problem)
            self.responses.setdefault(key, []).append(parsed)

    def response(self, key: str) -> dict[str, Any] | None:
        """The first response to ``key``, if any has arrived."""
        with self._lock:
            answers = self.responses.get(key)
            return answers[0] if answers else None
