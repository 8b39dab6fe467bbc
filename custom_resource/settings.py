"""Tunable numbers of the waiting machinery, read from the function's environment.

Each setting resolves environment variable -> default through one small pure function,
so tests build a ``Settings`` directly instead of patching the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "WFC_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""What ``WFC_LOG_LEVEL`` (the template's LogLevel parameter) accepts."""


@dataclass(frozen=True)
class Settings:
    """How often to poll, when to hand off to the next hop and when to give up."""

    start_jitter_seconds: float = 20.0
    """A new certificate request first waits a random 0..this long, so that many resources
    created at once (RequestCertificate: 5 per second per account) spread out."""
    poll_start_seconds: float = 10.0
    """The interval a wait starts with. A certificate's wait counts the account's crowd
    right after its request (``pacing``): alone, it polls at the floor from its first
    poll; until a count succeeds, it starts at the cap instead."""
    poll_min_seconds: float = 4.0
    """Shortest poll interval, where a lone waiter stays: the worst-case delay between
    ISSUED and the response of a lone certificate (half of it, typically). Up to about 14
    waiters together stay within their share of ACM's DescribeCertificate quota at this
    interval; more are paced longer (``pacing.crowd_floor``)."""
    poll_max_seconds: float = 30.0
    """Longest poll interval of a small crowd. A counted crowd's cap is 1.5 times its
    paced interval, and before any count, throttling at the cap grows the cap
    (``pacing.Pace``): a thousand waiters must poll minutes apart."""
    poll_backoff: float = 4.0
    """Throttling is congestion: a step with a throttled attempt multiplies the interval
    by this (AIMD's multiplicative part), so the waiters that collided free most of
    ACM's limit at once."""
    poll_recovery_seconds: float = 0.05
    """A clean poll shortens the interval by at least this (AIMD's additive part). Slow
    on purpose while the crowd is not counted: a waiter that was throttled stays backed
    off. Once counted, a waiter closes a quarter of the distance to its paced interval
    per poll (``pacing.next_interval``)."""
    acm_read_quota_per_second: float = 10.0
    """The account's DescribeCertificate quota per region (ACM's default; raise it with the
    account's quota): what every waiter and every other tool of the account share."""
    acm_read_share: float = 0.4
    """The part of that quota all waiters together aim at (``pacing.crowd_floor``). Below
    half on purpose: counts lag a crowd that is still gathering, and waiters that could
    not count yet poll on estimates, so the aim of 40 % keeps the measured rate under half
    of the quota; the rest stays for the account's other tools."""
    crowd_refresh_seconds: float = 300.0
    """How soon a waiter counts the account's pending certificates again after a first or
    a growing count (ListCertificates, 1 request per second per account); a steady count
    is read again only as often as the crowd's share of that quota allows."""
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
    wait_for_role_arn: str | None = None
    """The role a ``Custom::WaitFor`` without RoleArn calls AWS with: the provider
    template creates it, with the managed policies its operator granted, or leaves it
    out (then every WaitFor needs a RoleArn)."""
    allow_loopback_response_url: bool = False
    """Local runs only: accept http(s)://127.0.0.1 and localhost ResponseURLs."""
    log_level: str = "INFO"
    """How much the function logs: INFO is one line per hop and per change of what a wait
    is waiting for (and every response sent); DEBUG adds a line per poll; WARNING and
    ERROR keep only trouble."""

    def __post_init__(self) -> None:
        if not 0 < self.poll_min_seconds <= self.poll_max_seconds:
            raise ValueError("WFC_POLL_MIN_SECONDS must be > 0 and <= WFC_POLL_MAX_SECONDS")
        if not self.poll_min_seconds <= self.poll_start_seconds <= self.poll_max_seconds:
            raise ValueError(
                "WFC_POLL_START_SECONDS must be between WFC_POLL_MIN_SECONDS and "
                "WFC_POLL_MAX_SECONDS"
            )
        if self.start_jitter_seconds < 0:
            raise ValueError("WFC_START_JITTER_SECONDS must be >= 0")
        if self.poll_backoff <= 1:
            raise ValueError("WFC_POLL_BACKOFF must be > 1")
        if not 0 < self.poll_recovery_seconds <= self.poll_max_seconds:
            raise ValueError("WFC_POLL_RECOVERY_SECONDS must be > 0 and <= WFC_POLL_MAX_SECONDS")
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"WFC_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if self.acm_read_quota_per_second <= 0 or not 0 < self.acm_read_share <= 1:
            raise ValueError(
                "WFC_ACM_READ_QUOTA_PER_SECOND must be > 0, WFC_ACM_READ_SHARE in (0, 1]"
            )
        if self.crowd_refresh_seconds <= 0:
            raise ValueError("WFC_CROWD_REFRESH_SECONDS must be > 0")
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
            poll_start_seconds=_number(env, "POLL_START_SECONDS", defaults.poll_start_seconds),
            poll_min_seconds=_number(env, "POLL_MIN_SECONDS", defaults.poll_min_seconds),
            poll_max_seconds=_number(env, "POLL_MAX_SECONDS", defaults.poll_max_seconds),
            poll_backoff=_number(env, "POLL_BACKOFF", defaults.poll_backoff),
            poll_recovery_seconds=_number(
                env, "POLL_RECOVERY_SECONDS", defaults.poll_recovery_seconds
            ),
            acm_read_quota_per_second=_number(
                env, "ACM_READ_QUOTA_PER_SECOND", defaults.acm_read_quota_per_second
            ),
            acm_read_share=_number(env, "ACM_READ_SHARE", defaults.acm_read_share),
            crowd_refresh_seconds=_number(
                env, "CROWD_REFRESH_SECONDS", defaults.crowd_refresh_seconds
            ),
            handoff_margin_seconds=_number(
                env, "HANDOFF_MARGIN_SECONDS", defaults.handoff_margin_seconds
            ),
            deadline_margin_seconds=_number(
                env, "DEADLINE_MARGIN_SECONDS", defaults.deadline_margin_seconds
            ),
            wait_for_role_arn=env.get(PREFIX + "WAIT_FOR_ROLE_ARN", "").strip() or None,
            allow_loopback_response_url=env.get(PREFIX + "ALLOW_LOOPBACK_RESPONSE_URL", "")
            .strip()
            .lower()
            == "true",
            log_level=env.get(PREFIX + "LOG_LEVEL", "").strip().upper() or defaults.log_level,
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be a number, got {raw!r}") from None
