"""Poll pacing: how often one wait may call DescribeCertificate, given the account's crowd.

Every waiter of an account shares ACM's DescribeCertificate quota (10 requests per second
by default) with everything else the account runs. A lone waiter may poll every few
seconds; a thousand must poll minutes apart. One ListCertificates call (status
PENDING_VALIDATION, up to 1,000 per page) tells how many certificates the account is
waiting for: the crowd. A counted waiter polls at its share of ``Settings.acm_read_share``
of the quota.

ListCertificates has a quota of its own (1 request per second), so a large crowd cannot
all count at once. A throttled count is information too: ListCertificates served about one
other waiter per second while this one tried, so the crowd is at least that large, and the
waiter paces for it until a count succeeds (``estimate``). Throttling of the polls is
congestion (AIMD: it multiplies the interval, up to a cap); before any count, throttling at
the cap grows the cap, up to what a full page of waiters needs. The count is the account's,
not the wait's: the execution environment keeps it (``CrowdGauge``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .settings import Settings

MEAN_JITTER = 0.875
"""A pause is the interval times a uniform 0.75..1 (``relay.Relay._pause``): its mean."""
LIST_QUOTA_PER_SECOND = 1.0
"""ACM's default ListCertificates quota per account and region."""
PAGE = 1000
"""The most certificates one ListCertificates page counts."""
CAP_FACTOR = 1.5
"""A counted waiter's interval stays within this many times its paced one: throttling
backs it off, and its worst-case delay after ISSUED stays bounded."""
GROWTH = 1.25
"""A count this much larger than the one before (or a first count) says the crowd may
still be gathering: count again after ``Settings.crowd_refresh_seconds``."""


def crowd_floor(pending: int | None, settings: Settings) -> float:
    """The shortest interval for one of ``pending`` waiters, so that all of them together
    poll at ``acm_read_share`` of the DescribeCertificate quota on average."""
    budget = settings.acm_read_quota_per_second * settings.acm_read_share
    paced = (pending or 0) / budget / MEAN_JITTER
    return max(settings.poll_min_seconds, paced)


def crowd_cap(floor: float, settings: Settings) -> float:
    """The longest interval of a counted waiter: the settings' cap, or ``CAP_FACTOR``
    times the paced floor in a crowd."""
    return max(settings.poll_max_seconds, CAP_FACTOR * floor)


def ceiling(settings: Settings) -> float:
    """The longest interval of all: what the largest countable crowd needs."""
    return crowd_cap(crowd_floor(PAGE, settings), settings)


def pending_in(acm: Any) -> int:
    """Certificates pending validation in the client's region: one ListCertificates page
    (1,000 at most, enough to pace by)."""
    page = acm.list_certificates(CertificateStatuses=["PENDING_VALIDATION"], MaxItems=PAGE)
    return len(page.get("CertificateSummaryList", []))


def retry_period(misses: int, settings: Settings) -> float:
    """After ``misses`` throttled counts in a row: the window in which to count again,
    doubling from twice the settings' poll cap up to what a full page of waiters needs."""
    first = 2 * settings.poll_max_seconds
    return min(PAGE / LIST_QUOTA_PER_SECOND, first * 2 ** max(0, misses - 1))


def estimate(trying_seconds: float) -> int:
    """The least crowd that explains counts throttled for ``trying_seconds``:
    ListCertificates served about one other waiter a second meanwhile."""
    return min(PAGE, round(trying_seconds * LIST_QUOTA_PER_SECOND))


def next_interval(
    interval: float,
    congested: bool,
    settings: Settings,
    floor: float,
    cap: float | None = None,
    counted: bool = False,
) -> float:
    """AIMD on the poll interval: multiply it after a throttled (or failed) step, up to
    ``cap``; after a clean one, shorten it by a constant or, once the crowd was
    ``counted`` (``floor`` is then its paced share), by at least a quarter of the distance
    to the floor, so a waiter returns to its share within a few polls."""
    if congested:
        return min(cap or max(settings.poll_max_seconds, floor), interval * settings.poll_backoff)
    step = settings.poll_recovery_seconds
    if counted:
        step = max(step, (interval - floor) / 4)
    return max(floor, interval - step)


@dataclass
class Pace:
    """One wait's poll interval, its floor and its cap.

    ``crowded``: the wait shares its quota with a crowd it can count (a certificate's);
    only then does throttling before any count grow the cap, up to the ``ceiling``.
    """

    settings: Settings
    interval: float
    floor: float
    crowded: bool = False
    paced: float = 0.0
    cap: float = 0.0
    counted: bool = False

    def __post_init__(self) -> None:
        self.paced = self.floor
        self.cap = max(self.settings.poll_max_seconds, self.floor, self.interval)

    def count(self, pending: int) -> None:
        """Pace by a fresh count of the account's pending certificates."""
        self.paced = max(self.floor, crowd_floor(pending, self.settings))
        self.cap = max(self.floor, crowd_cap(self.paced, self.settings))
        self.interval = self.paced
        self.counted = True

    def at_least(self, crowd: int) -> None:
        """A count was throttled: a crowd of at least ``crowd`` (``estimate``) is
        counting, so pace no faster than for that crowd."""
        self.paced = max(self.paced, crowd_floor(crowd, self.settings))
        self.cap = max(self.cap, crowd_cap(self.paced, self.settings))
        self.interval = max(self.interval, self.paced)

    def step(self, congested: bool) -> float:
        """The interval after a step, throttled or not."""
        s = self.settings
        if congested and self.crowded and not self.counted and self.interval >= self.cap:
            self.cap = min(ceiling(s), self.cap * s.poll_backoff)
        self.interval = next_interval(
            self.interval, congested, s, self.paced, self.cap, self.counted
        )
        return self.interval


@dataclass
class CrowdGauge:
    """The account's crowd as this execution environment last counted it."""

    settings: Settings
    pending: int | None = None
    next_read: float = 0.0
    misses: int = 0
    missing_since: float = 0.0
    """When the current run of throttled counts began."""

    def refresh_period(self) -> float:
        """All waiters reading at this period use at most the same share of
        ListCertificates' quota as of DescribeCertificate's."""
        share = LIST_QUOTA_PER_SECOND * self.settings.acm_read_share
        return max(self.settings.crowd_refresh_seconds, (self.pending or 0) / share)

    def defer(self, now: float, interval: float, rng: random.Random) -> None:
        """A later hop in a fresh environment inherits a paced interval: infer the crowd
        from it and count at a random moment of the next period, not all at hop starts."""
        if self.pending is None:
            budget = self.settings.acm_read_quota_per_second * self.settings.acm_read_share
            self.pending = round(interval * MEAN_JITTER * budget)
            self.next_read = now + rng.uniform(0, 1) * self.refresh_period()

    def due(self, now: float) -> bool:
        return now >= self.next_read

    def record(self, now: float, rng: random.Random, pending: int | None) -> None:
        """The outcome of a count: the number, or None when it failed (throttled: others
        count too). A miss keeps the last count and tries again at a random moment of
        ``retry_period``, so an uncounted crowd does not hammer ListCertificates."""
        if pending is None:
            if self.misses == 0:
                self.missing_since = now
            self.misses += 1
            self.next_read = now + rng.uniform(0, 1) * retry_period(self.misses, self.settings)
            return
        growing = self.pending is None or pending > GROWTH * self.pending
        self.pending, self.misses = pending, 0
        period = self.settings.crowd_refresh_seconds if growing else self.refresh_period()
        self.next_read = now + rng.uniform(0.5, 1.5) * period

    def unavailable(self, now: float, rng: random.Random) -> None:
        """A count failed for another reason than throttling (say, no permission): it
        says nothing of the crowd; try again after a refresh period."""
        self.next_read = now + rng.uniform(0.5, 1.5) * self.refresh_period()

    def crowd_at_least(self, now: float) -> int:
        """What the current run of throttled counts says of the crowd (``estimate``)."""
        return estimate(now - self.missing_since)


@dataclass
class Pacer:
    """One wait's ``Pace`` with its environment's ``CrowdGauge``: what the relay's loop
    asks after each step (``due``, then ``counted``) before the pace takes its next
    interval."""

    gauge: CrowdGauge
    pace: Pace
    rng: random.Random

    @classmethod
    def start(
        cls,
        gauge: CrowdGauge,
        pace: Pace,
        rng: random.Random,
        now: float,
        continued: bool,
    ) -> Pacer:
        """A continued wait infers the crowd from its inherited interval when this
        environment never counted; either way a known count paces the wait at once. A
        new crowded wait with no count yet starts at the settings' cap: a crowd's first
        counts are throttled, and it must not poll at a lone waiter's pace meanwhile."""
        if continued:
            gauge.defer(now, pace.interval, rng)
        elif pace.crowded and gauge.pending is None:
            pace.interval = max(pace.interval, pace.settings.poll_max_seconds)
        if gauge.pending is not None:
            inherited = pace.interval
            pace.count(gauge.pending)
            if continued:  # it may have been backed off: keep that, within the cap
                pace.interval = min(pace.cap, max(pace.paced, inherited))
        return cls(gauge, pace, rng)

    def due(self, now: float) -> bool:
        return self.gauge.due(now)

    def unavailable(self, now: float) -> None:
        """A count failed for another reason than throttling (``CrowdGauge.unavailable``)."""
        self.gauge.unavailable(now, self.rng)

    def counted(self, now: float, pending: int | None) -> None:
        """The outcome of a count (None: ListCertificates throttled it)."""
        self.gauge.record(now, self.rng, pending)
        if pending is None:
            self.pace.at_least(self.gauge.crowd_at_least(now))
        else:
            self.pace.count(pending)
