"""The relay state: what one hop hands to the next, under one versioned key of the payload.

The state says when CloudFormation sent the request (the deadline's anchor), the hop
number, the poll interval and the task's own memo. Its format carries a version: a hop
that finds a version it does not know (a wait started by an older or newer provider)
must not guess at its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RELAY_KEY = "WaitForCertificate"
"""The one namespaced key of a re-invocation payload that holds the relay state."""

RELAY_VERSION = 2
"""Version 1 had no ``Version`` field and counted the deadline from the first hop."""


_VERSION_1_KEYS = ("Hop", "StartedAt", "Deadline", "Interval")


class MalformedRelayError(ValueError):
    """The relay state is not one this provider wrote: the event is not trusted."""


@dataclass(frozen=True)
class ForeignRelay:
    """A relay state of a version this provider does not know, and what it names."""

    version: int
    memo: dict[str, Any]

    @property
    def reason(self) -> str:
        known = "an older" if self.version == 1 else "another"
        return (
            f"this wait was started by {known} version of the WaitForCertificate provider "
            f"(relay state version {self.version!r}, this one reads {RELAY_VERSION}); "
            "the provider was upgraded while the resource waited: retry the stack operation"
        )


@dataclass(frozen=True)
class RelayState:
    hop: int
    requested_at: float
    """When CloudFormation sent the request (the ResponseURL's signing time) or, when the
    URL carries none, when the first hop ran: the deadline counts from here."""
    deadline: float
    interval: float
    memo: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "Version": RELAY_VERSION,
            "Hop": self.hop,
            "RequestedAt": self.requested_at,
            "Deadline": self.deadline,
            "Interval": self.interval,
            "Memo": self.memo,
        }


def read_relay(raw: Any) -> RelayState | ForeignRelay:
    """Type the relay state; a version we do not know comes back as ``ForeignRelay``."""
    if not isinstance(raw, dict):
        raise MalformedRelayError(f"{RELAY_KEY} must be an object")
    memo = raw.get("Memo", {})
    if not isinstance(memo, dict):
        raise MalformedRelayError(f"{RELAY_KEY}.Memo must be an object")
    version = raw.get("Version")
    if version is None and all(key in raw for key in _VERSION_1_KEYS):
        return ForeignRelay(1, memo)
    if isinstance(version, int) and not isinstance(version, bool) and version != RELAY_VERSION:
        return ForeignRelay(version, memo)
    if version != RELAY_VERSION:
        raise MalformedRelayError(f"{RELAY_KEY}.Version must be a whole number")
    try:
        hop, requested, deadline, interval = (
            raw["Hop"],
            raw["RequestedAt"],
            raw["Deadline"],
            raw["Interval"],
        )
    except KeyError as exc:
        raise MalformedRelayError(f"{RELAY_KEY} lacks {exc.args[0]}") from None
    numbers = (hop, requested, deadline, interval)
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        raise MalformedRelayError(f"{RELAY_KEY} holds a non-numeric value")
    if not isinstance(hop, int) or hop < 1:
        raise MalformedRelayError(f"{RELAY_KEY}.Hop must be a whole number >= 1")
    return RelayState(hop, float(requested), float(deadline), float(interval), memo)
