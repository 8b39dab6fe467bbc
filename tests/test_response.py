"""Responses: size limit, URL policy, bounded status-checked PUT.

The retry loop runs on a virtual clock (``FakeClock``): attempts that fail at once
leave room for every retry, attempts that hang are charged their socket timeout.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from custom_resource.request import parse_request
from custom_resource.response import (
    MAX_BODY_BYTES,
    Response,
    Sender,
    UnsafeResponseURLError,
    build_body,
    check_response_url,
    urllib_put,
)
from tests.conftest import FakeClock, make_event

REQUEST = parse_request(make_event(DomainName="example.com"))


def test_small_body_carries_every_field() -> None:
    body = json.loads(build_body(REQUEST, Response("SUCCESS", "arn:x", data={"Arn": "arn:x"})))
    assert body == {
        "Status": "SUCCESS",
        "Reason": "OK",
        "PhysicalResourceId": "arn:x",
        "StackId": REQUEST.stack_id,
        "RequestId": REQUEST.request_id,
        "LogicalResourceId": "Certificate",
        "NoEcho": False,
        "Data": {"Arn": "arn:x"},
    }


def test_data_is_trimmed_before_the_reason_and_arn_is_kept_longest() -> None:
    data = {"Arn": "arn:x", "Big": "b" * 3000, "Other": "o" * 2000}
    raw = build_body(REQUEST, Response("FAILED", "arn:x", reason="R" * 500, data=data))
    body = json.loads(raw)
    assert len(raw) <= MAX_BODY_BYTES
    assert body["Reason"] == "R" * 500
    assert body["Data"]["Arn"] == "arn:x"
    assert "Big" not in body["Data"]


def test_long_reason_keeps_its_head() -> None:
    reason = "ACM certificate FAILED: CAA_ERROR " + "x" * 10_000 + " TAIL"
    raw = build_body(REQUEST, Response("FAILED", "arn:x", reason=reason))
    body = json.loads(raw)
    assert len(raw) <= MAX_BODY_BYTES
    assert body["Reason"].startswith("ACM certificate FAILED: CAA_ERROR")
    assert body["Reason"].endswith("[truncated]") and "TAIL" not in body["Reason"]


def test_reason_full_of_characters_json_escapes_still_fits() -> None:
    raw = build_body(REQUEST, Response("FAILED", "id", reason='"\n\\é' * 3000))
    assert len(raw) <= MAX_BODY_BYTES
    json.loads(raw)


def test_data_with_dates_is_serialised_as_iso_strings() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = json.loads(build_body(REQUEST, Response("SUCCESS", "id", data={"At": when})))
    assert body["Data"]["At"] == "2026-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    "url",
    [
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a?b=c",
        "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/a",
        "https://bucket.s3.eu-central-1.amazonaws.com/a",
        "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x",
    ],
)
def test_s3_https_urls_are_accepted(url: str) -> None:
    check_response_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a",
        "https://evil.example.com/a",
        "https://s3.amazonaws.com.evil.com/a",
        "https://lambda.us-east-1.amazonaws.com/a",
        "http://127.0.0.1:8080/a",
        "file:///etc/passwd",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeResponseURLError) as caught:
        check_response_url(url)
    assert "?" not in str(caught.value).replace("?***", "")


def test_loopback_is_accepted_only_when_allowed() -> None:
    check_response_url("http://127.0.0.1:8080/a?sig=1", allow_loopback=True)
    check_response_url("http://localhost:8080/a", allow_loopback=True)
    with pytest.raises(UnsafeResponseURLError):
        check_response_url("http://10.0.0.1:8080/a", allow_loopback=True)


class _Recorder(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).seen.append(
            {"headers": dict(self.headers), "body": self.rfile.read(length), "path": self.path}
        )
        self.send_response(type(self).answers.pop(0) if type(self).answers else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"answers": [], "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/response?X-Amz-Signature=s", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _sender(sleeps: list[float], **kwargs: Any) -> Sender:
    return Sender(sleep=sleeps.append, rng=random.Random(1), **kwargs)


def test_real_put_has_empty_content_type_and_the_body(
    server: tuple[str, type[_Recorder]],
) -> None:
    url, recorder = server
    body = build_body(REQUEST, Response("SUCCESS", "arn:x"))
    assert _sender([]).send(url, body, budget_seconds=30)
    [seen] = recorder.seen
    assert seen["headers"]["Content-Type"] == ""
    assert seen["body"] == body
    assert seen["path"] == "/response?X-Amz-Signature=s"


def test_non_2xx_answers_are_retried_with_backoff_then_accepted(
    server: tuple[str, type[_Recorder]],
) -> None:
    url, recorder = server
    recorder.answers.extend([500, 403])
    sleeps: list[float] = []
    assert _sender(sleeps).send(url, b"{}", budget_seconds=30)
    assert len(recorder.seen) == 3
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.9


def test_retries_are_bounded_in_count() -> None:
    calls: list[str] = []

    def refused(url: str, body: bytes, timeout: float) -> int:
        calls.append(url)
        raise ConnectionRefusedError("refused")

    sleeps: list[float] = []
    assert not _sender(sleeps, put=refused).send("https://x", b"{}", budget_seconds=600)
    assert len(calls) == 5 and len(sleeps) == 4


def test_retries_are_bounded_in_time() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def hangs_until_its_timeout(url: str, body: bytes, timeout: float) -> int:
        calls.append(timeout)
        clock.advance(timeout)
        raise TimeoutError("timed out")

    sender = Sender(
        sleep=clock.sleep, rng=random.Random(1), put=hangs_until_its_timeout, clock=clock
    )
    assert not sender.send("https://x", b"{}", budget_seconds=12)
    assert clock.elapsed <= 12
    assert all(0 < t <= 10 for t in calls)


def test_instant_failures_get_every_attempt_within_the_budget() -> None:
    """Each attempt is charged the time it took, not its socket timeout."""
    clock = FakeClock()
    calls: list[float] = []

    def unavailable(url: str, body: bytes, timeout: float) -> int:
        calls.append(clock.elapsed)
        return 503

    sender = Sender(sleep=clock.sleep, rng=random.Random(1), put=unavailable, clock=clock)
    assert not sender.send("https://x", b"{}", budget_seconds=30)
    assert len(calls) == 5
    assert clock.elapsed <= 30


@pytest.mark.parametrize(
    "failure",
    [
        http.client.IncompleteRead(b"partial", 10),
        http.client.BadStatusLine("HTTP/1.1 2OO OK"),
        http.client.RemoteDisconnected("Remote end closed connection without response"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError("timed out"),
        RuntimeError("anything else"),
    ],
    ids=type,
)
def test_any_exception_of_an_attempt_is_retried(failure: Exception) -> None:
    attempts: list[float] = []

    def fails_once(url: str, body: bytes, timeout: float) -> int:
        attempts.append(timeout)
        if len(attempts) == 1:
            raise failure
        return 200

    assert _sender([], put=fails_once).send("https://x", b"{}", budget_seconds=30)
    assert len(attempts) == 2


def test_a_real_bad_status_line_is_retried_then_accepted() -> None:
    """A loopback server answers garbage to the first PUT and 200 to the second."""
    answers = [b"NONSENSE\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2)
    listener.settimeout(10)

    def serve() -> None:
        for answer in answers:
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(10)
                connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/r?X-Amz-Signature=s"
        assert _sender([]).send(url, b"{}", budget_seconds=30)
    finally:
        thread.join(10)
        listener.close()
    assert not thread.is_alive()


def test_a_process_dying_mid_put_is_not_swallowed() -> None:
    """Only exceptions are retried: a BaseException (e.g. KeyboardInterrupt) goes through."""

    def interrupted(url: str, body: bytes, timeout: float) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _sender([], put=interrupted).send("https://x", b"{}", budget_seconds=30)


def test_socket_timeout_is_passed_to_the_connection() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/r"
        with pytest.raises(TimeoutError):
            urllib_put(url, b"{}", timeout=0.2)
    finally:
        listener.close()
