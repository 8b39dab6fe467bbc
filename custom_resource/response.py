"""The CloudFormation response: a body of at most 4096 bytes, PUT with bounded retries.

Replaces crhelper's sender, which has no socket timeout, retries forever, ignores the
HTTP status and logs the pre-signed URL.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from .partitions import is_aws_host
from .request import CfnRequest, mask_url

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
MAX_PHYSICAL_ID_BYTES = 1024
Status = Literal["SUCCESS", "FAILED"]

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class UnsafeResponseURLError(ValueError):
    """The ResponseURL does not point at CloudFormation's S3 bucket over https."""


@dataclass(frozen=True)
class Response:
    status: Status
    physical_resource_id: str
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    no_echo: bool = False


def check_response_url(url: str, allow_loopback: bool = False) -> None:
    """Accept https on an S3 host of an AWS partition; http(s) on loopback only when local
    runs allow it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if allow_loopback and parts.scheme in ("http", "https") and host in _LOOPBACK_HOSTS:
        return
    is_s3 = is_aws_host(host) and (host.startswith("s3") or ".s3" in host or "-s3" in host)
    if parts.scheme != "https" or not is_s3:
        raise UnsafeResponseURLError(f"ResponseURL {mask_url(url)} is not https on an S3 host")


def build_body(request: CfnRequest, response: Response) -> bytes:
    """Serialise the response, trimming Data first (see ``KEPT_LONGEST``) and then the
    Reason's tail to fit."""
    physical_id = response.physical_resource_id.encode()[:MAX_PHYSICAL_ID_BYTES].decode(
        errors="ignore"
    )
    body: dict[str, Any] = {
        "Status": response.status,
        "Reason": response.reason or ("OK" if response.status == "SUCCESS" else "Failed"),
        "PhysicalResourceId": physical_id,
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
        "NoEcho": response.no_echo,
        "Data": json.loads(json.dumps(response.data, default=_json_default)),
    }
    encoded = _encode(body)
    data = body["Data"]
    for key in sorted(data, key=lambda k: (_keep_rank(k), -len(_encode(data[k])))):
        if len(encoded) <= MAX_BODY_BYTES:
            break
        del data[key]
        encoded = _encode(body)
    excess = len(encoded) - MAX_BODY_BYTES
    if excess > 0:
        marker = " [truncated]"
        reason = body["Reason"].encode()
        body["Reason"] = (
            reason[: max(0, len(reason) - excess - len(marker) - 8)].decode(errors="ignore")
            + marker
        )
        encoded = _encode(body)
    return encoded


KEPT_LONGEST = (
    "Arn",
    "ValidationRecordName",
    "ValidationRecordValue",
    "ValidationRecordType",
    "DomainName",
)
"""Data keys dropped last, the first last of all: the ARN, then the primary name's record
(what a stack most needs to output or write). Every other key (``ValidationRecords``,
whose size grows with the names) goes first, the largest first."""


def _keep_rank(key: str) -> int:
    return len(KEPT_LONGEST) - KEPT_LONGEST.index(key) if key in KEPT_LONGEST else 0


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


Put = Callable[[str, bytes, float], int]
"""Sends one PUT: (url, body, socket timeout) -> HTTP status; raises when the attempt fails."""


def urllib_put(url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="PUT")
    request.add_header("Content-Type", "")
    request.add_header("Content-Length", str(len(body)))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class ResponseNotDeliveredError(RuntimeError):
    """CloudFormation's S3 never accepted the response: the invocation must fail.

    Raised (outside crhelper, see ``handler.py``) so that Lambda retries the event and,
    once it gives up, the on-failure destination answers (``responder.py``). Its message
    names the URL masked: the error message ends up in the destination record.
    """


MIN_ATTEMPT_SECONDS = 1.0
"""No attempt gets a shorter socket timeout: below that, a PUT to S3 is pointless."""


@dataclass(frozen=True)
class Sender:
    """PUT a body with a socket timeout and a bounded number of jittered retries.

    Every attempt is charged the time it really took (``clock``), so fast failures
    (an instant 503, a reset connection) leave room for every attempt, and slow ones
    stop the loop at the budget.
    """

    sleep: Callable[[float], None]
    rng: random.Random
    put: Put = urllib_put
    attempts: int = 5
    socket_timeout: float = 10.0
    first_backoff: float = 1.0
    clock: Callable[[], float] = time.monotonic

    def send(self, url: str, body: bytes, budget_seconds: float) -> bool:
        """True when CloudFormation's S3 accepted the body (2xx) within the budget."""
        spent = 0.0
        for attempt in range(1, self.attempts + 1):
            timeout = min(self.socket_timeout, max(MIN_ATTEMPT_SECONDS, budget_seconds - spent))
            started = self.clock()
            try:
                status = self.put(url, body, timeout)
                if 200 <= status < 300:
                    logger.info("Response accepted (HTTP %d) by %s", status, mask_url(url))
                    return True
                problem = f"HTTP {status}"
            except Exception as exc:  # any failure of one attempt is worth another attempt
                problem = f"{type(exc).__name__}: {exc}"
            spent += max(0.0, self.clock() - started)
            backoff = self.first_backoff * 2 ** (attempt - 1) * self.rng.uniform(0.5, 1.0)
            logger.warning("Response attempt %d/%d failed: %s", attempt, self.attempts, problem)
            if attempt == self.attempts or spent + backoff + MIN_ATTEMPT_SECONDS > budget_seconds:
                break
            self.sleep(backoff)
            spent += backoff
        logger.error("Giving up sending the response to %s", mask_url(url))
        return False
