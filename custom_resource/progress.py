"""What a long task reports after each step: done, failed, or still pending.

Only the relay turns "pending" into a sleep or a re-invocation; only the lifecycle turns
"done" or "failed" into a CloudFormation response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Done:
    physical_id: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    reason: str
    physical_id: str | None = None


@dataclass(frozen=True)
class Pending:
    detail: str
    """What is still awaited, in words a user can act on (e.g. which CNAME to create)."""
    memo: dict[str, Any] = field(default_factory=dict)
    """The task's own state; the relay carries it to the next step and the next hop."""


@dataclass(frozen=True)
class HandedOff:
    """The wait goes on in a new invocation; this one must not answer."""

    next_hop: int


Progress = Done | Failed | Pending
Outcome = Done | Failed | HandedOff


class Task(Protocol):
    """A long task, advanced one idempotent step at a time."""

    @property
    def physical_id(self) -> str | None:
        """The resource id as far as it is known (e.g. the certificate ARN once requested)."""
        ...

    def step(self, memo: dict[str, Any]) -> Progress:
        """Advance as far as possible without waiting; safe to repeat with the same memo."""
        ...
