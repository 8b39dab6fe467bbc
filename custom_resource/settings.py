"""Tunable numbers of the waiting machinery, read from the function's environment.

Each setting resolves environment variable -> default through one small pure function,
so tests build a ``Settings`` directly instead of patching the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "WFC_"


@dataclass(frozen=True)
class Settings:
    """How often to poll, when to hand off to the next hop and when to give up."""

    start_jitter_seconds: float = 20.0
    """A new certificate request first waits a random 0..this long, so that many resources
    created at once (RequestCertificate: 5 per second per account) spread out."""
    poll_min_seconds: float = 10.0
    """First poll interval; it grows by ``poll_growth`` after every poll."""
    poll_max_seconds: float = 30.0
    """Cap of the poll interval: the worst-case delay between ISSUED and the response."""
    poll_growth: float = 1.5
    handoff_margin_seconds: float = 60.0
    """Remaining Lambda time below which a hop re-invokes the function and returns. It
    covers one more AWS call and the hand-off's Invoke, each at its worst case
    (``aws.HOP_CALL_RESERVE_SECONDS``)."""
    deadline_margin_seconds: float = 180.0
    """Answer FAILED this long before CloudFormation's ServiceTimeout (at most 10% of it).

    The deadline counts from the ResponseURL's signing time; the margin covers the last
    poll, the response PUT and clock skew, and, for a URL without a signing time, the
    time before the first hop ran.
    """
    allow_loopback_response_url: bool = False
    """Local runs only: accept http(s)://127.0.0.1 and localhost ResponseURLs."""

    def __post_init__(self) -> None:
        if not 0 < self.poll_min_seconds <= self.poll_max_seconds:
            raise ValueError("WFC_POLL_MIN_SECONDS must be > 0 and <= WFC_POLL_MAX_SECONDS")
        if self.start_jitter_seconds < 0:
            raise ValueError("WFC_START_JITTER_SECONDS must be >= 0")
        if self.poll_growth < 1:
            raise ValueError("WFC_POLL_GROWTH must be >= 1")
        if self.handoff_margin_seconds <= 0 or self.deadline_margin_seconds < 0:
            raise ValueError(
                "WFC_HANDOFF_MARGIN_SECONDS must be > 0, WFC_DEADLINE_MARGIN_SECONDS >= 0"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            start_jitter_seconds=_number(
                env, "START_JITTER_SECONDS", defaults.start_jitter_seconds
            ),
            poll_min_seconds=_number(env, "POLL_MIN_SECONDS", defaults.poll_min_seconds),
            poll_max_seconds=_number(env, "POLL_MAX_SECONDS", defaults.poll_max_seconds),
            poll_growth=_number(env, "POLL_GROWTH", defaults.poll_growth),
            handoff_margin_seconds=_number(
                env, "HANDOFF_MARGIN_SECONDS", defaults.handoff_margin_seconds
            ),
            deadline_margin_seconds=_number(
                env, "DEADLINE_MARGIN_SECONDS", defaults.deadline_margin_seconds
            ),
            allow_loopback_response_url=env.get(PREFIX + "ALLOW_LOOPBACK_RESPONSE_URL", "")
            .strip()
            .lower()
            == "true",
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be a number, got {raw!r}") from None
