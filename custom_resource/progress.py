"""What a long task reports after each step: done, failed, still pending, or answered early.

Only the relay turns "pending" into a sleep or a re-invocation; only the lifecycle turns
"done" or "failed" into a CloudFormation response, and "early" (12-hour mode) into a
response followed by more waiting, whose end it signals to a WaitCondition handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .relay_state import RelayState


@dataclass(frozen=True)
class Done:
    physical_id: str
    data: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    """Said with SUCCESS when there is something to say (e.g. a certificate left alone)."""
    summary: str | None = None
    """What was achieved, for a WaitCondition signal's Reason (default: the certificate's)."""
    signal_data: str | None = None
    """A WaitCondition signal's Data (default: the physical id)."""


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
class Early:
    """CloudFormation can be answered ``done`` now, but the task goes on (12-hour mode).

    The lifecycle sends ``done`` as the one CloudFormation response, then keeps waiting
    from ``state``; the wait's end goes to the WaitCondition handle instead.
    """

    done: Done
    memo: dict[str, Any] = field(default_factory=dict)
    state: RelayState | None = None
    """Where the wait stands (set by the relay): the background wait continues from here."""


@dataclass(frozen=True)
class Stopped:
    """A background wait ends with nobody left to tell (its certificate was deleted)."""

    reason: str


@dataclass(frozen=True)
class HandedOff:
    """The wait goes on in a new invocation; this one must not answer."""

    next_hop: int


Progress = Done | Failed | Pending | Early | Stopped
Outcome = Done | Failed | HandedOff | Early | Stopped


class Task(Protocol):
    """A long task, advanced one idempotent step at a time."""

    @property
    def physical_id(self) -> str | None:
        """The resource id as far as it is known (e.g. the certificate ARN once requested)."""
        ...

    def step(self, memo: dict[str, Any]) -> Progress:
        """Advance as far as possible without waiting; safe to repeat with the same memo."""
        ...


class WaitOptions(Protocol):
    """What bounds a task's wait, from its resource's properties (any resource type)."""

    @property
    def service_timeout(self) -> int: ...

    @property
    def wait_handle(self) -> str | None:
        """12-hour mode: the WaitCondition handle that gets the wait's end."""
        ...

    @property
    def wait_timeout(self) -> int: ...

    @property
    def poll_seconds(self) -> float | None:
        """The shortest interval between polls; None: the provider's own."""
        ...
