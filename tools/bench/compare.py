"""The side-by-side comparison over many seeds: this provider and its peers, one
certificate per wait length, and crowds of 100, 300 and 1,000 in one account.

This provider's single waits run its real handler (``cases.run_single``); its crowds run
its model (``provider_model.py``); each peer runs its model (``peers.py``), all in the
same world. A seed fixes every random draw: validation times (within half a minute of the
named minute, so no strategy gains from whole-minute timing), ISSUED's visibility delay,
jitter, SDK backoff. Seeds run in parallel processes.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from custom_resource.settings import Settings
from tools.emulator import FunctionConfig, from_template

from .cases import RunOptions, run_single
from .peers import PEERS, SERVICE_TIMEOUT_S, START_SPREAD_S, Strategy
from .pricing import Bill, gb_seconds
from .provider_model import ProviderModel
from .rows import Crowd, CrowdRow, StrategyRow, Wait
from .world import INIT_S, REGIONAL_CONCURRENCY, VISIBLE_DELAY_S, Lambda, Resource, World, run

PROVIDER = "this provider"
COMPARE_MINUTES = (2.0, 10.0, 30.0, 45.0, 70.0)
CROWD_SIZES = (100, 300, 1000)
SEEDS = 20
OFFSET_S = 30.0
"""Validation times are drawn within this many seconds of the named minute."""
STEADY_WINDOW_S = (600.0, 1200.0)
"""The steady state of a crowd: minutes 10 to 20, after the start, before most are issued."""
DESCRIBE = "DescribeCertificate"


@dataclass(frozen=True)
class CompareOptions:
    settings: Settings = field(default_factory=Settings)
    function: FunctionConfig = field(default_factory=from_template)
    minutes: tuple[float, ...] = COMPARE_MINUTES
    sizes: tuple[int, ...] = CROWD_SIZES
    concurrency: int = REGIONAL_CONCURRENCY
    spread_minutes: tuple[float, float] = (5.0, 40.0)
    """A crowd's validation times, uniform in this range."""


def validation_s(minutes: float, seed: int) -> float:
    rng = random.Random(f"{seed}/{minutes}")
    return max(0.0, minutes * 60 + rng.uniform(-OFFSET_S, OFFSET_S))


def visibility_s(minutes: float, seed: int) -> float:
    return random.Random(f"{seed}/{minutes}/visible").uniform(*VISIBLE_DELAY_S)


def _answer(answer: tuple[float, str] | None) -> str:
    if answer is None or answer[0] > SERVICE_TIMEOUT_S:
        return "NONE"
    return answer[1]


def provider_wait(minutes: float, seed: int, options: CompareOptions) -> Wait:
    """The real handler; ISSUED turns visible on moto at validation plus visibility."""
    run_options = RunOptions(settings=options.settings, function=options.function, seed=seed)
    issue_at = validation_s(minutes, seed) + visibility_s(minutes, seed)
    case = run_single(minutes, run_options, issue_after_s=issue_at)
    at = case.responded_after_s
    answer = None if at is None else (at, case.status.split("/")[0])
    billed = sum(case.billed_ms) + round(case.cold_starts * INIT_S * 1000)
    bill = Bill(case.hops, gb_seconds(billed, options.function.memory_mb))
    status = _answer(answer)
    return Wait(
        PROVIDER,
        minutes,
        seed,
        status,
        "gave up before ServiceTimeout" if status == "FAILED" else "",
        case.detection_latency_s if status == "SUCCESS" else None,
        bill.usd,
        case.hops,
        case.describe_calls,
    )


def peer_wait(label: str, strategy: Strategy, minutes: float, seed: int) -> Wait:
    world = World(seed)
    rng = random.Random(f"{seed}/{minutes}/start")
    r = Resource(validation_s(minutes, seed), visibility_s(minutes, seed))
    world.resources = [r]
    run(world, [(rng.uniform(0, START_SPREAD_S), strategy(world, r))])
    status = _answer(r.answer)
    return Wait(
        label,
        minutes,
        seed,
        status,
        r.why,
        r.latency if status == "SUCCESS" else None,
        _bill(r).usd,
        r.invocations,
        r.describe_calls,
        r.transitions,
        r.scheduled_events,
        r.control_calls,
    )


def _bill(r: Resource) -> Bill:
    return Bill(r.invocations, gb_seconds(r.billed_ms, 128), r.transitions, r.scheduled_events)


def crowd(label: str, strategy: Strategy, size: int, seed: int, options: CompareOptions) -> Crowd:
    """``size`` Creates at once in one account."""
    world = World(
        seed, function=Lambda(options.concurrency, options.function.maximum_event_age_seconds)
    )
    rng = random.Random(f"{seed}/crowd/{size}")
    low, high = options.spread_minutes
    resources = [Resource.drawn(rng, rng.uniform(low, high) * 60) for _ in range(size)]
    world.resources = resources
    starts = [0.0 if label == PROVIDER else rng.uniform(0, START_SPREAD_S) for _ in resources]
    run(world, [(at, strategy(world, r)) for at, r in zip(starts, resources, strict=True)])
    latencies = [r.latency for r in resources if r.latency is not None]
    calls = world.calls
    attempted = calls.counts["attempted"][DESCRIBE]
    first, last = STEADY_WINDOW_S
    steady = sum(n for s, n in attempted.items() if first <= s < last) / (last - first)
    return Crowd(
        strategy=label,
        size=size,
        seed=seed,
        succeeded=sum(_answer(r.answer) == "SUCCESS" for r in resources),
        answered_in_time=sum(_answer(r.answer) != "NONE" for r in resources),
        latency_p50_s=statistics.median(latencies) if latencies else math.inf,
        latency_max_s=max(latencies, default=math.inf),
        throttled_percent=100 * calls.throttled(DESCRIBE) / max(1, calls.total(DESCRIBE)),
        steady_reads_per_s=steady,
        peak_executions=world.function.peak,
        cost_usd_per_wait=sum(_bill(r).usd for r in resources) / size,
        list_throttled_percent=100
        * calls.throttled("ListCertificates")
        / max(1, calls.total("ListCertificates")),
    )


def strategies(options: CompareOptions) -> list[tuple[str, Strategy]]:
    model = ProviderModel(options.settings, options.function)
    return [(PROVIDER, model), *((p.label, p.strategy) for p in PEERS)]


def seed_job(job: tuple[int, CompareOptions]) -> tuple[list[Wait], list[Crowd]]:
    """Everything one seed contributes."""
    seed, options = job
    waits = [provider_wait(m, seed, options) for m in options.minutes]
    waits += [peer_wait(p.label, p.strategy, m, seed) for p in PEERS for m in options.minutes]
    crowds = [
        crowd(label, strategy, size, seed, options)
        for size in options.sizes
        for label, strategy in strategies(options)
    ]
    return waits, crowds


T = TypeVar("T")
R = TypeVar("R")


def parallel(work: Callable[[T], R], jobs: Sequence[T], processes: int) -> list[R]:
    if processes <= 1 or len(jobs) <= 1:
        return [work(job) for job in jobs]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.map(work, jobs, chunksize=1)


@dataclass
class Comparison:
    seeds: list[int]
    waits: list[Wait]
    crowds: list[Crowd]
    rows: list[StrategyRow]
    crowd_rows: list[CrowdRow]


def compare(seeds: Sequence[int], options: CompareOptions, processes: int) -> Comparison:
    results = parallel(seed_job, [(seed, options) for seed in seeds], processes)
    waits = [w for ws, _ in results for w in ws]
    crowds = [c for _, cs in results for c in cs]
    names = [PROVIDER, *(p.label for p in PEERS)]
    rows = [
        StrategyRow.of([w for w in waits if w.strategy == name and w.minutes == m])
        for name in names
        for m in options.minutes
    ]
    crowd_rows = [
        CrowdRow.of([c for c in crowds if c.strategy == name and c.size == size])
        for size in options.sizes
        for name in names
    ]
    return Comparison(list(seeds), waits, crowds, rows, crowd_rows)
