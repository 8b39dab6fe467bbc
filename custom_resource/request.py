"""The CloudFormation request as a typed object, and the relay state carried across hops.

Anything that is not a well-formed CloudFormation custom-resource request is rejected
here, before any response could be sent to an address taken from it.
"""

from __future__ import annotations

import calendar
import copy
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

from .relay_state import RELAY_KEY, ForeignRelay, MalformedRelayError, RelayState, read_relay

RequestType = Literal["Create", "Update", "Delete"]
REQUEST_TYPES: tuple[RequestType, ...] = ("Create", "Update", "Delete")

__all__ = [
    "RELAY_KEY",
    "CfnRequest",
    "NotARequestError",
    "idempotency_token",
    "mask_url",
    "parse_request",
    "signed_at",
]

SIGV2_LIFETIME_SECONDS = 7200
"""A SigV2 ResponseURL's ``Expires`` lies about two hours after CloudFormation signed it."""

_REQUIRED_STRINGS = (
    "RequestType",
    "ResponseURL",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "ResourceType",
)


class NotARequestError(ValueError):
    """The Lambda event is not a CloudFormation custom-resource request."""


@dataclass(frozen=True)
class CfnRequest:
    """A CloudFormation custom-resource request (plus relay state on later hops)."""

    request_type: RequestType
    response_url: str
    stack_id: str
    request_id: str
    logical_resource_id: str
    resource_type: str
    physical_resource_id: str | None
    properties: dict[str, Any]
    old_properties: dict[str, Any] | None
    relay: RelayState | None
    foreign_relay: ForeignRelay | None
    """Relay state of a version this provider cannot read: the hop must answer FAILED."""
    event: dict[str, Any]
    """The CloudFormation event as received, without relay state: what a next hop gets."""

    @property
    def masked_response_url(self) -> str:
        return mask_url(self.response_url)

    def with_relay(self, state: RelayState) -> dict[str, Any]:
        """The payload for the next hop: the original event plus the relay state."""
        payload = copy.deepcopy(self.event)
        payload[RELAY_KEY] = state.to_json()
        return payload


def parse_request(event: Any) -> CfnRequest:
    """Check the event's shape and type it; raise NotARequestError for anything else."""
    if not isinstance(event, dict):
        raise NotARequestError(f"event is a {type(event).__name__}, not an object")
    for key in _REQUIRED_STRINGS:
        value = event.get(key)
        if not isinstance(value, str) or not value:
            raise NotARequestError(f"{key} is missing or not a non-empty string")
    request_type = event["RequestType"]
    if request_type not in REQUEST_TYPES:
        raise NotARequestError(f"RequestType {request_type!r} is not Create, Update or Delete")
    if not urlsplit(event["ResponseURL"]).netloc:
        raise NotARequestError("ResponseURL is not an absolute URL")
    properties = event.get("ResourceProperties", {})
    old_properties = event.get("OldResourceProperties")
    physical_id = event.get("PhysicalResourceId")
    if not isinstance(properties, dict):
        raise NotARequestError("ResourceProperties is not an object")
    if request_type == "Update" and not isinstance(old_properties, dict):
        raise NotARequestError("an Update lacks OldResourceProperties")
    if request_type != "Create" and (not isinstance(physical_id, str) or not physical_id):
        raise NotARequestError(f"a {request_type} lacks PhysicalResourceId")
    try:
        relay = read_relay(event[RELAY_KEY]) if RELAY_KEY in event else None
    except MalformedRelayError as exc:
        raise NotARequestError(str(exc)) from None
    original = {k: v for k, v in event.items() if k != RELAY_KEY}
    return CfnRequest(
        request_type=cast(RequestType, request_type),
        response_url=event["ResponseURL"],
        stack_id=event["StackId"],
        request_id=event["RequestId"],
        logical_resource_id=event["LogicalResourceId"],
        resource_type=event["ResourceType"],
        physical_resource_id=physical_id if isinstance(physical_id, str) else None,
        properties=copy.deepcopy(properties),
        old_properties=copy.deepcopy(old_properties) if isinstance(old_properties, dict) else None,
        relay=relay if isinstance(relay, RelayState) else None,
        foreign_relay=relay if isinstance(relay, ForeignRelay) else None,
        event=copy.deepcopy(original),
    )


def mask_url(url: str) -> str:
    """A pre-signed URL is a credential: keep scheme, host and path, drop the signature."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?***" if parts.query else "")


def signed_at(url: str) -> float | None:
    """When CloudFormation signed the ResponseURL (about when it sent the request).

    SigV4 URLs carry ``X-Amz-Date``; SigV2 URLs carry ``Expires``, two hours later. None
    when the URL carries neither (a local run, or a format we do not know).
    """
    query = parse_qs(urlsplit(url).query)
    try:
        if "X-Amz-Date" in query:
            stamp = time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            return float(calendar.timegm(stamp))
        if "Expires" in query:
            return float(int(query["Expires"][0]) - SIGV2_LIFETIME_SECONDS)
    except ValueError:
        return None
    return None


def idempotency_token(*parts: str) -> str:
    """32 word characters, the same for the same parts: a request's identity (ACM's
    IdempotencyToken is at most 32 word characters) and the digest in physical ids."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
