"""What both constructs share: values as CloudFormation sends them, and the stand-ins the
synth-time checks use for values known only at deployment (tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, Token

PLACEHOLDERS: dict[str, Any] = {
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:placeholder",
    "DomainName": "placeholder.example.com",
    "HostedZoneId": "Z0PLACEHOLDER",
    "Region": "us-east-1",
    "Route53RoleArn": "arn:aws:iam::123456789012:role/placeholder",
    "Route53RoleExternalId": "placeholder",
    "RoleArn": "arn:aws:iam::123456789012:role/placeholder",
    "RoleExternalId": "placeholder",
    "CertificateAuthorityArn": (
        "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/placeholder"
    ),
    "WaitConditionHandle": (
        "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/placeholder?X=1"
    ),
    "ValidationDomain": "example.com",
    "Key": "placeholder",
    "Value": "placeholder",
}
"""A valid stand-in per property, for a value only known at deployment (a token): the
handler checks it then; the synth-time check judges the rest."""


def checkable(key: str, value: Any) -> Any:
    """``value`` as the handler would receive it, each token replaced by a stand-in."""
    if Token.is_unresolved(value):
        return PLACEHOLDERS.get(key, "1") if not isinstance(value, list) else []
    if isinstance(value, list):
        return [checkable(key, v) for v in value]
    if isinstance(value, dict):
        return {k: checkable(k, v) for k, v in value.items()}
    return as_sent(value)


def checkable_all(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every given property made checkable, with a stand-in ServiceToken when none is."""
    sent = {key: checkable(key, value) for key, value in raw.items() if value is not None}
    sent.setdefault("ServiceToken", PLACEHOLDERS["ServiceToken"])
    return sent


def as_sent(value: Any) -> Any:
    """As CloudFormation sends a value to a custom resource: scalars as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not Token.is_unresolved(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def seconds(duration: Duration | None) -> float | None:
    return None if duration is None else duration.to_seconds(integral=False)
