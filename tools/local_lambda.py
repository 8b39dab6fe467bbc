"""An in-process Lambda for tests, the benchmark and the demo.

It runs the provider for an event and for every asynchronous self-invocation the
provider makes, captured on the boto3 session before it leaves the process. Time is a
``FakeClock``: sleeping advances it instantly, and scheduled actions (e.g. "the
certificate is issued after 40 minutes") fire as it passes them.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from custom_resource.request import RELAY_KEY

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:wait-for-certificate"
MAX_RESPONSE_BYTES = 4096


class FakeClock:
    """Epoch seconds that move only when someone sleeps."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.start = start
        self.slept = 0.0
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def at(self, elapsed: float, action: Callable[[], None]) -> None:
        """Run ``action`` once the clock has moved ``elapsed`` seconds past its start."""
        heapq.heappush(self._timers, (self.start + elapsed, next(self._order), action))
        self._fire()

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"negative sleep {seconds}"
        self.slept += seconds
        self.now += seconds
        self._fire()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._fire()

    def _fire(self) -> None:
        while self._timers and self._timers[0][0] <= self.now:
            heapq.heappop(self._timers)[2]()


@dataclass
class FakeContext:
    """The part of Lambda's context object the provider uses, on the fake clock."""

    clock: Callable[[], float]
    budget_seconds: float
    invoked_function_arn: str = FUNCTION_ARN
    aws_request_id: str = "local-request"
    function_name: str = "wait-for-certificate"
    memory_limit_in_mb: int = 128
    started_at: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started_at + self.budget_seconds - self.clock()) * 1000))


class ProtocolError(AssertionError):
    """A response broke CloudFormation's custom-resource protocol."""


@dataclass
class ResponseSink:
    """Stands in for CloudFormation's S3 URL: records each PUT and checks the protocol."""

    clock: Callable[[], float] = lambda: 0.0
    statuses: list[int] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def put(self, url: str, body: bytes, timeout: float) -> int:
        if len(body) > MAX_RESPONSE_BYTES:
            raise ProtocolError(f"response of {len(body)} bytes")
        if timeout <= 0:
            raise ProtocolError("PUT without a positive socket timeout")
        parsed = json.loads(body)
        check_response(parsed)
        self.urls.append(url)
        self.bodies.append(parsed)
        self.times.append(self.clock())
        return self.statuses.pop(0) if self.statuses else 200

    @property
    def last(self) -> dict[str, Any]:
        assert self.bodies, "no response was sent"
        return self.bodies[-1]


def check_response(body: dict[str, Any]) -> None:
    required = ("Status", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId")
    for key in required:
        if not isinstance(body.get(key), str) or not body[key]:
            raise ProtocolError(f"response lacks {key}: {body}")
    if body["Status"] not in ("SUCCESS", "FAILED"):
        raise ProtocolError(f"bad Status {body['Status']!r}")
    if body["Status"] == "FAILED" and not body.get("Reason"):
        raise ProtocolError("FAILED without a Reason")
    if len(body["PhysicalResourceId"].encode()) > 1024:
        raise ProtocolError("PhysicalResourceId over 1 KB")
    if not isinstance(body.get("Data", {}), dict):
        raise ProtocolError("Data is not an object")


@dataclass
class Invocation:
    hop: int
    started_at: float
    ended_at: float
    handed_off: bool


class _Accepted:
    status_code = 202


class LocalLambda:
    """Runs ``function`` for an event and every Event-type self-invocation it makes."""

    def __init__(
        self,
        session: Any,
        function: Callable[[dict[str, Any], Any], Any],
        clock: FakeClock,
        budget_seconds: float = 900.0,
        function_arn: str = FUNCTION_ARN,
        hook_session: bool = True,
    ) -> None:
        self.function = function
        self.clock = clock
        self.budget_seconds = budget_seconds
        self.function_arn = function_arn
        self.queue: list[dict[str, Any]] = []
        self.invocations: list[Invocation] = []
        if hook_session:
            session.events.register("before-call.lambda.Invoke", self.capture)

    def capture(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        """Accept an Invoke like Lambda does (202) and queue its payload as the next hop."""
        headers = params.get("headers", {})
        if headers.get("X-Amz-Invocation-Type") != "Event":
            raise AssertionError(f"self-invocation must be asynchronous: {headers}")
        if self.function_arn not in params.get("url_path", "").replace("%3A", ":"):
            raise AssertionError(f"invoked another function: {params.get('url_path')}")
        self.queue.append(json.loads(params["body"]))
        return _Accepted(), {"StatusCode": 202, "ResponseMetadata": {"HTTPStatusCode": 202}}

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run one invocation (a delivery of ``event``), queueing what it hands off."""
        queued = len(self.queue)
        context = FakeContext(self.clock, self.budget_seconds, self.function_arn)
        started = self.clock()
        self.function(json.loads(json.dumps(event)), context)
        relay = event.get(RELAY_KEY, {})
        record = Invocation(relay.get("Hop", 1), started, self.clock(), len(self.queue) > queued)
        self.invocations.append(record)
        return record

    def run(self, event: dict[str, Any], max_invocations: int = 50) -> list[Invocation]:
        """Deliver ``event``, then every hop it hands off to, until the chain ends."""
        first = len(self.invocations)
        self.queue.append(event)
        while self.queue:
            if len(self.invocations) - first >= max_invocations:
                raise AssertionError(f"more than {max_invocations} invocations")
            self.invoke(self.queue.pop(0))
        return self.invocations[first:]
