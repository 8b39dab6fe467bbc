"""Every AWS client the provider uses, built lazily from one boto3 session.

No single call may outlast a hop's hand-off margin: clients get short socket timeouts and
a bounded retry budget (``CALL_WORST_CASE_SECONDS`` in all), and while a hop runs, a call
starts only if that worst case still leaves time for the hand-off to the next hop.
Tests pass in their own session (moto, Stubber, event hooks) instead of patching here.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
ATTEMPTS_PER_CALL = 3
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": ATTEMPTS_PER_CALL},
)
CALL_WORST_CASE_SECONDS = ATTEMPTS_PER_CALL * (
    CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
) + sum(2**attempt for attempt in range(1, ATTEMPTS_PER_CALL))
"""One call against an endpoint that accepts connections and never answers: every attempt
times out, and botocore's standard mode sleeps at most 2**attempt s between attempts."""
HOP_CALL_RESERVE_SECONDS = 2 * CALL_WORST_CASE_SECONDS
"""A task's call starts only with this much Lambda time left: its own worst case plus
that of the Invoke that hands off to the next hop."""
GUARDED_SERVICES = frozenset({"acm", "route53", "sts", "cloudformation"})
"""The task's services; Lambda (the hand-off itself) is never held back."""
ASSUMED_ROLE_SECONDS = 900
ROLE_REFRESH_SECONDS = 300
"""Assume the role again once its credentials have less than this left: a hop may run
up to 15 minutes, so credentials from its start may expire before its end."""


class OutOfHopTimeError(Exception):
    """Too little Lambda time is left to start an AWS call and still hand off safely."""


THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
TRANSIENT_CODES = THROTTLING_CODES | frozenset(
    {
        "PriorRequestNotComplete",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
    }
)


def error_code(exc: BaseException) -> str:
    return (
        str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
    )


def is_transient(exc: BaseException) -> bool:
    """Throttling, a 5xx or a network fault: worth waiting and trying again."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in TRANSIENT_CODES or int(status or 0) >= 500
    return isinstance(exc, BotoCoreError)


ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
"""A definite "you may not": retrying cannot help, and the caller knows it cannot read."""


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in ACCESS_DENIED_CODES


def is_throttling(exc: BaseException) -> bool:
    return "Throttl" in error_code(exc) or error_code(exc) == "TooManyRequestsException"


class Clients:
    """A cache of clients keyed by service and region, and of assumed roles' clients.

    Lambda reuses a warm environment across requests, so a cached client may serve a
    later request: an assumed role's client is keyed by role and external id (a request
    with another external id assumes the role itself) and replaced before it expires.
    """

    def __init__(
        self,
        session: Any | None = None,
        region: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._region = region
        self._clock = clock
        self._cache: dict[tuple[str, str], Any] = {}
        self._roles: dict[tuple[str, str | None, str, str], tuple[Any, float]] = {}
        self._time_left: Callable[[], float] | None = None
        self.throttled_attempts = 0
        """HTTP attempts ACM (or another service) throttled, botocore's retried ones
        included: the relay's congestion signal, which botocore's retries would hide."""

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session

    @property
    def region(self) -> str:
        """The function's own region: the default home of certificates."""
        return (
            self._region
            or self.session.region_name
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )

    @contextlib.contextmanager
    def bounded_by(self, time_left: Callable[[], float]) -> Iterator[None]:
        """While a hop runs, hold back a task's call that could outlast the hop.

        Lambda runs one invocation per environment at a time, so one bound at a time.
        """
        self._time_left = time_left
        try:
            yield
        finally:
            self._time_left = None

    def _guard(self, **_: Any) -> None:
        if self._time_left is not None and self._time_left() < HOP_CALL_RESERVE_SECONDS:
            raise OutOfHopTimeError(
                f"less than {HOP_CALL_RESERVE_SECONDS} s of Lambda time left for an AWS call"
            )

    def _count_throttle(self, response: Any = None, **_: Any) -> None:
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
        code = str(parsed.get("Error", {}).get("Code", "")) if isinstance(parsed, dict) else ""
        if code in THROTTLING_CODES:
            self.throttled_attempts += 1

    def _new(self, service: str, region: str, guarded: bool = False, **credentials: Any) -> Any:
        """A client; a task's (``guarded``, or of the certificate's services) is held back
        near the hop's end, and its throttled attempts are counted."""
        client = self.session.client(
            service, region_name=region, config=CLIENT_CONFIG, **credentials
        )
        if guarded or service in GUARDED_SERVICES:
            client.meta.events.register_first("before-call", self._guard)
            client.meta.events.register_first("needs-retry", self._count_throttle)
        return client

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._cache:
            self._cache[key] = self._new(*key)
        return self._cache[key]

    def acm(self, region: str | None = None) -> Any:
        return self.client("acm", region)

    def route53(self, role_arn: str | None = None, external_id: str | None = None) -> Any:
        """Route 53 in this account, or in another one through an assumed role."""
        if role_arn is None:
            return self.client("route53")
        return self.assumed("route53", self.region, role_arn, external_id)

    def assumed(
        self, service: str, region: str, role_arn: str, external_id: str | None = None
    ) -> Any:
        """A guarded client of ``service`` with the credentials of ``role_arn``."""
        key = (role_arn, external_id, service, region)
        cached = self._roles.get(key)
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        assume: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": "WaitForCertificate",
            "DurationSeconds": ASSUMED_ROLE_SECONDS,
        }
        if external_id:
            assume["ExternalId"] = external_id
        asked_at = self._clock()
        creds = self.client("sts").assume_role(**assume)["Credentials"]
        client = self._new(
            service,
            region,
            guarded=True,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        self._roles[key] = (client, asked_at + ASSUMED_ROLE_SECONDS - ROLE_REFRESH_SECONDS)
        return client
