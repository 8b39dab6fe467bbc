"""Ownership: the provider acts only on certificates it requested for the requesting stack.

Every certificate the provider requests carries tags naming the stack, the resource and
the request (the request's idempotency token). Deleting a certificate, changing its tags
or its options first checks the stack tag, and the provider's IAM role says the same with
tag conditions, so a forged or mistaken PhysicalResourceId can never make the provider
touch a certificate another stack (or a person) owns. The request tag also finds what a
request left behind when no hop lived to name it: the certificate of a Create that Lambda
gave up on in its first hop, or an Update's replacement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..aws import Clients, error_code
from ..request import idempotency_token

TAG_PREFIX = "WaitForCertificate:"
STACK_TAG = TAG_PREFIX + "Stack"
RESOURCE_TAG = TAG_PREFIX + "Resource"
REQUEST_TAG = TAG_PREFIX + "Request"
REPLACES_TAG = TAG_PREFIX + "Replaces"
"""Set on a replacement certificate, naming the one it replaced, so a rollback finds it."""
PROVIDER_TAGS = (STACK_TAG, RESOURCE_TAG, REQUEST_TAG, REPLACES_TAG)
"""Every tag the provider may add: they count against ACM's 50 tags per certificate."""

KEY_TYPES = (
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)
"""ListCertificates returns RSA_1024 and RSA_2048 certificates only, unless asked for more."""

_MARKER = re.compile(r"-create-failed-([0-9a-f]{32})$")


@dataclass(frozen=True)
class Owner:
    """The request a certificate belongs to: what its provider tags say."""

    stack_id: str
    logical_id: str
    token: str

    @classmethod
    def of(cls, stack_id: str, logical_id: str, request_id: str) -> Owner:
        return cls(stack_id, logical_id, idempotency_token(stack_id, logical_id, request_id))

    def tags(self) -> list[dict[str, str]]:
        return [
            {"Key": STACK_TAG, "Value": self.stack_id},
            {"Key": RESOURCE_TAG, "Value": self.logical_id},
            {"Key": REQUEST_TAG, "Value": self.token},
        ]

    def marker(self) -> str:
        """The PhysicalResourceId of a Create that failed before naming a certificate:
        not an ARN, so its rollback Delete succeeds, yet it leads to the request's tags."""
        return f"{self.logical_id}-create-failed-{self.token}"


def marker_token(physical_id: str) -> str | None:
    """The request token a create-failed marker carries (None: not a marker of ours)."""
    match = _MARKER.search(physical_id)
    return match.group(1) if match else None


def tags_of(clients: Clients, region: str, arn: str) -> dict[str, str] | None:
    """The certificate's tags, or None when it is gone."""
    try:
        listed = clients.acm(region).list_tags_for_certificate(CertificateArn=arn)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return {t["Key"]: t.get("Value", "") for t in listed.get("Tags", [])}


def owned_by(tags: dict[str, str], stack_id: str) -> bool:
    """Whether the tags say the provider requested the certificate for this stack."""
    return tags.get(STACK_TAG) == stack_id


def requested_by(
    clients: Clients, region: str, owner: Owner, domain_name: str | None = None
) -> list[str]:
    """The certificates in ``region`` whose tags name ``owner``'s request.

    ``domain_name`` narrows the scan to certificates of that first name (the
    ListCertificates summary carries it), so only those are asked for their tags.
    Each call is bounded by the clients' hop guard like any other call.
    """
    found = []
    for summary in certificate_summaries(clients, region):
        if domain_name and str(summary.get("DomainName", "")).lower() != domain_name:
            continue
        arn = summary["CertificateArn"]
        tags = tags_of(clients, region, arn) or {}
        if owned_by(tags, owner.stack_id) and tags.get(REQUEST_TAG) == owner.token:
            found.append(arn)
    return found


def certificate_summaries(clients: Clients, region: str) -> Iterator[dict[str, Any]]:
    """Every certificate of the region, whatever its key type or status, page by page."""
    paginator = clients.acm(region).get_paginator("list_certificates")
    for page in paginator.paginate(Includes={"keyTypes": list(KEY_TYPES)}):
        yield from page.get("CertificateSummaryList", [])
