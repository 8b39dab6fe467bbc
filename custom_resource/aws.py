"""Every AWS client the provider uses, built lazily from one boto3 session.

Clients get short socket timeouts and a bounded retry budget, so no single call can
outlive a hop's hand-off margin. Tests pass in their own session (moto, Stubber, event
hooks) instead of patching anything here.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=20,
    retries={"mode": "standard", "total_max_attempts": 3},
)

TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
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


def is_throttling(exc: BaseException) -> bool:
    return "Throttl" in error_code(exc) or error_code(exc) == "TooManyRequestsException"


class Clients:
    """A cache of clients keyed by service, region and assumed role."""

    def __init__(self, session: Any | None = None, region: str | None = None) -> None:
        self._session = session
        self._region = region
        self._cache: dict[tuple[str, str | None, str | None], Any] = {}

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

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region, None)
        if key not in self._cache:
            self._cache[key] = self.session.client(
                service, region_name=key[1], config=CLIENT_CONFIG
            )
        return self._cache[key]

    def acm(self, region: str | None = None) -> Any:
        return self.client("acm", region)

    def route53(self, role_arn: str | None = None, external_id: str | None = None) -> Any:
        """Route 53 in this account, or in another one through an assumed role."""
        if role_arn is None:
            return self.client("route53")
        key = ("route53", None, role_arn)
        if key not in self._cache:
            assume: dict[str, Any] = {
                "RoleArn": role_arn,
                "RoleSessionName": "WaitForCertificate",
                "DurationSeconds": 900,
            }
            if external_id:
                assume["ExternalId"] = external_id
            creds = self.client("sts").assume_role(**assume)["Credentials"]
            self._cache[key] = self.session.client(
                "route53",
                region_name=self.region,
                config=CLIENT_CONFIG,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        return self._cache[key]
