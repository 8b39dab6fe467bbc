"""The benchmark's simulated AWS account: resources to create, ACM's rate limits, issuance.

- ACM answers through moto. Every HTTP attempt passes a front door that counts it per
  simulated second and answers ``ThrottlingException`` once the second's quota of the
  operation is used up (a bucket of N tokens refilled at every whole second).
- Each resource's certificate turns ISSUED at its set time (on moto's backend).
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from moto.acm.models import acm_backends
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from tools.emulator import FUNCTION_ARN, VirtualClock

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/bench/5b1c6f60-11ef-9f1a-0a1b2c3d4e5f"
RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/"
    "arn%3Aaws%3Acloudformation/bench-{name}?X-Amz-Signature=secret-signature"
)

ACM_LIMITS: Mapping[str, int] = {
    "DescribeCertificate": 10,
    "RequestCertificate": 5,
    "DeleteCertificate": 10,
    "ListCertificates": 1,
}
"""ACM's request rates per second, per account and region (the same page as
``world.QUOTAS`` cites)."""


@dataclass(frozen=True)
class ResourceSpec:
    """One custom resource of the run: its Create event and when ACM issues it."""

    name: str
    domain: str
    issue_after: float
    """Seconds after the Create is delivered; if the certificate is requested later
    (throttling), it is issued as soon as it exists."""

    def event(self) -> dict[str, Any]:
        return {
            "RequestType": "Create",
            "ServiceToken": FUNCTION_ARN,
            "ResponseURL": RESPONSE_URL.format(name=self.name),
            "StackId": STACK_ID,
            "RequestId": f"bench-{self.name}-{self.domain}",
            "LogicalResourceId": self.name,
            "ResourceType": "Custom::WaitForCertificate",
            "ResourceProperties": {"ServiceToken": FUNCTION_ARN, "DomainName": self.domain},
        }


Kind = Literal["called", "attempted", "accepted"]


@dataclass
class CallLog:
    """Per operation and simulated second: the API calls the provider made (``called``),
    the HTTP attempts the service saw, botocore's retries included (``attempted``), and
    those it did not throttle (``accepted``)."""

    counts: dict[Kind, defaultdict[str, Counter[int]]] = field(
        default_factory=lambda: {k: defaultdict(Counter) for k in get_args(Kind)}
    )

    def add(self, kind: Kind, operation: str, second: int) -> None:
        self.counts[kind][operation][second] += 1

    def total(self, operation: str, kind: Kind = "attempted") -> int:
        return sum(self.counts[kind][operation].values())

    def peak(self, operation: str, kind: Kind = "attempted") -> int:
        return max(self.counts[kind][operation].values(), default=0)

    def seconds_over(self, operation: str, limit: int, kind: Kind = "attempted") -> int:
        return sum(1 for n in self.counts[kind][operation].values() if n > limit)

    def throttled(self, operation: str) -> int:
        return self.total(operation) - self.total(operation, "accepted")


class RateLimit:
    """ACM's quota per operation and region: N tokens, refilled at every whole second.
    The provider's front door and the peers' models share it, so both meet one ACM."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self.limits = dict(limits)
        self._used: Counter[tuple[str, str, int]] = Counter()

    def admit(self, operation: str, second: int, region: str = REGION) -> bool:
        limit = self.limits.get(operation)
        if limit is None:
            return True
        key = (region, operation, second)
        if self._used[key] >= limit:
            return False
        self._used[key] += 1
        return True


class AcmFrontDoor:
    """Counts every HTTP attempt and throttles it like ACM before moto answers it."""

    def __init__(self, clock: VirtualClock, session: Any, limits: Mapping[str, int]) -> None:
        self.clock = clock
        self.limit = RateLimit(limits)
        self.calls = CallLog()
        events = session.events
        events.unregister("before-send", botocore_stubber)
        events.register("before-send", self._handle)
        events.register("before-call.acm", self._count_call)

    def _count_call(self, model: Any, **_: Any) -> None:
        self.calls.add("called", model.name, math.floor(self.clock.elapsed))

    def _handle(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        _, service, operation = event_name.split(".", 2)
        second = math.floor(self.clock.elapsed)
        self.calls.add("attempted", operation, second)
        if service == "acm":
            region = (urlsplit(request.url).hostname or "").split(".")[1]
            if not self.limit.admit(operation, second, region):
                return throttled_response(request.url)
        self.calls.add("accepted", operation, second)
        return botocore_stubber(event_name=event_name, request=request, **kwargs)


def throttled_response(url: str) -> AWSResponse:
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "throttled"}
    return AWSResponse(url, 400, headers, MockRawResponse(body))


class Issuer:
    """Turns each resource's certificate ISSUED at its time (on moto's backend)."""

    def __init__(self, clock: VirtualClock, session: Any, specs: Sequence[ResourceSpec]) -> None:
        self.clock = clock
        self.issued_at: dict[str, float] = {}
        self._due: set[str] = set()
        for spec in specs:
            clock.at(spec.issue_after, functools.partial(self._make_due, spec.domain))
        session.events.register("after-call.acm.RequestCertificate", self._issue_due)

    def _make_due(self, domain: str) -> None:
        self._due.add(domain)
        self._issue_due()

    def _issue_due(self, **_: Any) -> None:
        if not self._due:
            return
        for cert in acm_backends[ACCOUNT][REGION]._certificates.values():
            if cert.common_name in self._due and cert.status == "PENDING_VALIDATION":
                cert.status = "ISSUED"
                self._due.discard(cert.common_name)
                self.issued_at[cert.common_name] = self.clock.elapsed
