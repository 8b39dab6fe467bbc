"""Poll pacing from the account's crowd: a lone waiter polls within seconds, a crowd shares
less than half of ACM's DescribeCertificate quota, a throttled count still tells how large
the crowd is at least, and the count itself is read rarely."""

from __future__ import annotations

import random

import pytest

from custom_resource.pacing import (
    MEAN_JITTER,
    PAGE,
    CrowdGauge,
    Pace,
    Pacer,
    ceiling,
    crowd_cap,
    crowd_floor,
    estimate,
    retry_period,
)
from custom_resource.settings import Settings

SETTINGS = Settings()


def fresh(crowded: bool = True) -> Pace:
    return Pace(SETTINGS, SETTINGS.poll_start_seconds, SETTINGS.poll_min_seconds, crowded)


@pytest.mark.parametrize("pending", [1, 10, 100, 300, 1000])
def test_all_waiters_together_poll_at_their_share_of_the_quota_on_average(pending: int) -> None:
    floor = crowd_floor(pending, SETTINGS)
    rate = pending / (floor * MEAN_JITTER)
    assert rate <= SETTINGS.acm_read_quota_per_second * SETTINGS.acm_read_share + 1e-9
    assert SETTINGS.acm_read_share < 0.5, "the aim stays below half, for counts that lag"
    assert floor >= SETTINGS.poll_min_seconds
    assert crowd_cap(floor, SETTINGS) == max(SETTINGS.poll_max_seconds, 1.5 * floor)


def test_a_lone_waiter_polls_at_the_floor_once_counted() -> None:
    pace = fresh()
    pace.count(1)
    assert pace.interval == SETTINGS.poll_min_seconds and pace.counted


def test_a_counted_crowd_backs_off_within_its_cap_and_returns_within_a_few_polls() -> None:
    pace = fresh()
    pace.count(300)
    paced = pace.interval
    for _ in range(5):
        pace.step(True)
    assert pace.interval == pace.cap == 1.5 * paced, "throttling never passes the cap"
    for _ in range(25):
        pace.step(False)
    assert pace.interval == pytest.approx(paced, rel=0.05)


def test_throttling_before_any_count_grows_the_cap_up_to_a_full_page() -> None:
    pace = fresh()
    for _ in range(10):
        pace.step(True)
    assert pace.interval == pace.cap == ceiling(SETTINGS)
    assert ceiling(SETTINGS) == crowd_cap(crowd_floor(PAGE, SETTINGS), SETTINGS)


def test_a_wait_without_a_crowd_to_count_keeps_the_settings_cap() -> None:
    """Custom::WaitFor polls other APIs: plain AIMD, as before pacing."""
    pace = fresh(crowded=False)
    for _ in range(10):
        pace.step(True)
    assert pace.interval == pace.cap == SETTINGS.poll_max_seconds


def test_a_throttled_count_paces_for_those_served_while_it_tried() -> None:
    rng = random.Random(1)
    pacer = Pacer.start(CrowdGauge(SETTINGS), fresh(), rng, 0.0, continued=False)
    assert pacer.pace.interval == SETTINGS.poll_max_seconds, "uncounted: starts at the cap"
    pacer.counted(10.0, None)
    assert pacer.pace.interval == SETTINGS.poll_max_seconds, "one miss says little"
    pacer.counted(250.0, None)
    assert estimate(240.0) == 240
    assert pacer.pace.interval == crowd_floor(240, SETTINGS)
    assert not pacer.pace.counted and pacer.gauge.misses == 2
    assert estimate(10_000.0) == PAGE


def test_a_throttled_count_is_retried_at_random_within_a_doubling_window() -> None:
    rng = random.Random(2)
    gauge = CrowdGauge(SETTINGS)
    windows = []
    for _ in range(8):
        gauge.record(100.0, rng, None)
        windows.append(gauge.next_read - 100.0)
        assert 0 <= windows[-1] <= retry_period(gauge.misses, SETTINGS)
    assert [retry_period(m, SETTINGS) for m in (1, 2, 3)] == [60.0, 120.0, 240.0]
    assert retry_period(20, SETTINGS) == PAGE, "one a second: a full page's wait at most"


def test_a_first_or_growing_count_is_read_again_soon_a_steady_one_rarely() -> None:
    rng = random.Random(3)
    gauge = CrowdGauge(SETTINGS)
    gauge.record(0.0, rng, 200)
    assert gauge.next_read <= 1.5 * SETTINGS.crowd_refresh_seconds, "the crowd may be gathering"
    gauge.record(gauge.next_read, rng, 1000)
    grown = gauge.next_read
    assert grown - 0.0 <= 3 * SETTINGS.crowd_refresh_seconds
    start = gauge.next_read
    gauge.record(start, rng, 1000)
    share = SETTINGS.acm_read_share
    assert gauge.next_read - start >= 0.5 * 1000 / share, "a steady crowd shares the quota"


def test_a_later_hop_infers_the_crowd_from_its_interval_and_reads_it_later() -> None:
    gauge = CrowdGauge(SETTINGS)
    pace = Pace(SETTINGS, crowd_floor(500, SETTINGS), SETTINGS.poll_min_seconds, True)
    pacer = Pacer.start(gauge, pace, random.Random(4), 100.0, continued=True)
    assert gauge.pending == 500 and gauge.next_read > 100.0
    assert pacer.pace.counted and pacer.pace.interval == pytest.approx(crowd_floor(500, SETTINGS))


def test_an_environment_that_counted_paces_its_next_wait_at_once() -> None:
    gauge = CrowdGauge(SETTINGS, pending=1)
    pacer = Pacer.start(gauge, fresh(), random.Random(5), 0.0, continued=False)
    assert pacer.pace.counted and pacer.pace.paced == SETTINGS.poll_min_seconds


def test_only_a_wait_that_will_count_its_crowd_starts_at_the_cap() -> None:
    waiter = Pacer.start(CrowdGauge(SETTINGS), fresh(crowded=False), random.Random(6), 0.0, False)
    assert waiter.pace.interval == SETTINGS.poll_start_seconds < SETTINGS.poll_max_seconds
