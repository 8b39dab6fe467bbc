"""CloudFormation's end of the ResponseURL: the custom-resource protocol, checked on every PUT.

The checks follow CloudFormation's documented custom-resource protocol, not the provider's code, so
a provider bug cannot hide behind its own constants. ``ResponseSink`` is the in-process
ResponseURL of the tests and the benchmark; the demo's HTTP recorder and its patched
CloudFormation run the same ``check_put``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 4096
MAX_PHYSICAL_ID_BYTES = 1024
REQUIRED = ("Status", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId")


class ProtocolError(AssertionError):
    """A response broke CloudFormation's custom-resource protocol."""


def check_body(body: Any) -> None:
    """A response body CloudFormation accepts."""
    if not isinstance(body, dict):
        raise ProtocolError(f"the body is a {type(body).__name__}, not an object")
    for key in REQUIRED:
        if not isinstance(body.get(key), str) or not body[key]:
            raise ProtocolError(f"response lacks {key}: {body}")
    if body["Status"] not in ("SUCCESS", "FAILED"):
        raise ProtocolError(f"bad Status {body['Status']!r}")
    if body["Status"] == "FAILED" and not body.get("Reason"):
        raise ProtocolError("FAILED without a Reason")
    if len(body["PhysicalResourceId"].encode()) > MAX_PHYSICAL_ID_BYTES:
        raise ProtocolError("PhysicalResourceId over 1 KB")
    if not isinstance(body.get("Data", {}), dict):
        raise ProtocolError("Data is not an object")


def check_put(body: bytes, content_type: str | None = None, timeout: float | None = None) -> Any:
    """The parsed body of a PUT to a ResponseURL; ProtocolError if CloudFormation would
    reject it. ``timeout`` is the sender's socket timeout, when known."""
    if len(body) > MAX_BODY_BYTES:
        raise ProtocolError(f"response of {len(body)} bytes (at most {MAX_BODY_BYTES})")
    if content_type not in (None, ""):
        raise ProtocolError(f"Content-Type {content_type!r} (S3 pre-signed PUTs need none)")
    if timeout is not None and timeout <= 0:
        raise ProtocolError("PUT without a positive socket timeout")
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"the body is not JSON: {exc}") from None
    check_body(parsed)
    return parsed


@dataclass
class ResponseSink:
    """Stands in for CloudFormation's S3 URL in process: checks and records each PUT.

    A PUT that breaks the protocol raises ``ProtocolError`` and is also kept in
    ``violations``, since the provider may catch what its sender raises.
    """

    clock: Callable[[], float] = lambda: 0.0
    statuses: list[int] = field(default_factory=list)
    """HTTP statuses to answer, in order (then 200): a test's S3 trouble."""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def put(self, url: str, body: bytes, timeout: float) -> int:
        """The provider's ``Put``: (url, body, socket timeout) -> HTTP status."""
        try:
            parsed = check_put(body, timeout=timeout)
        except ProtocolError as exc:
            self.violations.append(str(exc))
            raise
        self.urls.append(url)
        self.bodies.append(parsed)
        self.times.append(self.clock())
        return self.statuses.pop(0) if self.statuses else 200

    @property
    def last(self) -> dict[str, Any]:
        assert self.bodies, "no response was sent"
        return self.bodies[-1]
