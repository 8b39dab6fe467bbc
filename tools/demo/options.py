"""What a demo run does: the names, the simulated timing, the failure mode, the speed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAILURE_MODES = {"validation": "CAA_ERROR", "crash": "RetriesExhausted"}
"""``--fail`` choices and what the Create's FAILED Reason names: ACM's FailureReason, or
the condition Lambda reports to the on-failure destination when it gives up."""
SERVICE_TIMEOUT = 3600.0
"""template/example.yaml's ServiceTimeout: how long CloudFormation waits for an answer."""


@dataclass(frozen=True)
class DemoOptions:
    domain: str = "www.example.com"
    sans: tuple[str, ...] = ()
    new_domain: str | None = None
    """The DomainName of the replacing Update; default ``v2.<domain>``."""
    zone: str | None = None
    """The hosted zone to create; default: the domain without its first label."""
    validation_minutes: float = 40.0
    """Simulated minutes a certificate stays PENDING_VALIDATION: three hops of 900 s."""
    in_use_minutes: float = 20.0
    """How long the simulated CloudFront distribution holds the certificate at Delete."""
    fail: str | None = None
    wait_for: bool = False
    """``--wait-for``: the Custom::WaitFor story (an S3 object uploaded
    ``validation_minutes`` later) instead of the certificate's."""
    speed: float = 600.0
    """Simulated seconds shown per real second (an hour in 6 s); ``math.inf``: no pacing."""
    region: str = "us-east-1"
    provider_stack: str = "wait-for-certificate"
    stack: str = "wait-for-certificate-demo"
    provider_template: Path = ROOT / "template" / "provider.yaml"
    example_template: Path = ROOT / "template" / "example.yaml"

    @property
    def replacement_domain(self) -> str:
        return self.new_domain or f"v2.{self.domain.removeprefix('*.')}"

    @property
    def hosted_zone(self) -> str:
        """Lower case: Route 53 compares names case-insensitively, moto does not."""
        labels = self.domain.removeprefix("*.").split(".")
        return (self.zone or ".".join(labels[1:] if len(labels) > 2 else labels)).lower()

    @property
    def fail_validation(self) -> str | None:
        """The FailureReason ACM gives pending certificates (``--fail validation``)."""
        return FAILURE_MODES["validation"] if self.fail == "validation" else None

    @property
    def crash(self) -> bool:
        """``--fail crash``: the Create's first hop dies right after requesting its certificate."""
        return self.fail == "crash"

    @property
    def paced(self) -> bool:
        return not math.isinf(self.speed)
