"""The Lambda context object, on whatever clock the emulator runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:wait-for-certificate"
"""The provider function of the tests and the benchmark."""


@dataclass
class LambdaContext:
    """The part of Lambda's context the provider uses; remaining time follows ``clock``."""

    clock: Callable[[], float]
    budget_seconds: float
    """The function's timeout."""
    invoked_function_arn: str = FUNCTION_ARN
    """The ARN the caller invoked: the function's, or with a version or alias appended."""
    function_version: str = "$LATEST"
    """The version that runs: ``$LATEST`` or a published version's number."""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128
    started_at: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    @property
    def function_name(self) -> str:
        return self.invoked_function_arn.split(":")[6]

    @property
    def deadline(self) -> float:
        return self.started_at + self.budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock()) * 1000))
