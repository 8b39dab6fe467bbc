"""The side-by-side comparison: this provider and its peers, per wait length and at 100.

This provider's rows come from its real runs (``cases.SingleCase``, ``ConcurrentCase``);
each peer's from its model (``peers.py``) on the same issuance times and ACM quota.
"""

from __future__ import annotations

from collections.abc import Sequence

from .cases import DESCRIBE, BenchReport, ConcurrentCase, SingleCase
from .peers import PEERS, SERVICE_TIMEOUT_S, Peer, Waiter, run_peer
from .pricing import Bill
from .rows import CrowdRow, StrategyRow

PROVIDER = "this provider"
COMPARE_MINUTES = (2.0, 10.0, 30.0, 45.0, 70.0)


def _outcome(answer: tuple[float, str] | None, why: str) -> tuple[str, bool]:
    if answer is None or answer[0] > SERVICE_TIMEOUT_S:
        late = "" if answer is None else f"; it answered {answer[1]} at {answer[0] / 60:.0f} min"
        stop = f" ({why})" if why else ""
        return f"no answer{stop}: CloudFormation fails it at 60 min{late}", False
    at, status = answer
    if status == "SUCCESS":
        return "SUCCESS", True
    return f"FAILED at {at / 60:.1f} min ({why})", True


def peer_row(peer: Peer, minutes: float, seed: int) -> StrategyRow:
    [w] = run_peer(peer, [minutes * 60], seed=seed + round(minutes * 60)).waiters
    outcome, in_time = _outcome(w.answer, w.why)
    return _row(peer.label, minutes, outcome, in_time, _latency(w), w.units, w.describe_calls)


def _latency(w: Waiter) -> float | None:
    if w.answer is None or w.answer[1] != "SUCCESS" or w.answer[0] > SERVICE_TIMEOUT_S:
        return None
    return w.answer[0] - w.issue_at


def _row(
    strategy: str,
    minutes: float,
    outcome: str,
    in_time: bool,
    latency: float | None,
    bill: Bill,
    describes: int,
) -> StrategyRow:
    return StrategyRow(
        strategy=strategy,
        validation_minutes=minutes,
        outcome=outcome,
        answered_in_time=in_time,
        detection_latency_s=latency,
        invocations=bill.invocations,
        gb_s=bill.gb_s,
        state_transitions=bill.transitions,
        scheduled_events=bill.scheduled_events,
        cost_usd=bill.usd,
        describe_calls=describes,
    )


def provider_row(case: SingleCase) -> StrategyRow:
    at = case.responded_after_s
    status = case.status.split("/")[0] if at is not None else ""
    answer = None if at is None else (at, status)
    outcome, in_time = _outcome(answer, "its own deadline, before ServiceTimeout")
    return _row(
        PROVIDER,
        case.validation_minutes,
        outcome,
        in_time,
        case.detection_latency_s,
        Bill(case.hops, case.gb_s),
        case.describe_calls,
    )


def peer_crowd(peer: Peer, resources: int, minutes: float, seed: int) -> CrowdRow:
    run = run_peer(peer, [minutes * 60] * resources, seed=seed)
    succeeded = sum(
        w.answer is not None and w.answer[1] == "SUCCESS" and w.answer[0] <= SERVICE_TIMEOUT_S
        for w in run.waiters
    )
    attempts = run.calls.total(DESCRIBE)
    total = sum((w.units.usd for w in run.waiters), 0.0)
    return CrowdRow(
        peer.label,
        resources,
        minutes,
        succeeded,
        100 * run.calls.throttled(DESCRIBE) / max(1, attempts),
        attempts,
        total / resources,
    )


def provider_crowd(case: ConcurrentCase, minutes: float) -> CrowdRow:
    load = case.describe
    return CrowdRow(
        PROVIDER,
        case.resources,
        minutes,
        case.succeeded,
        100 * load.throttled / max(1, load.attempts),
        load.attempts,
        Bill(case.invocations, case.gb_s).usd / case.resources,
    )


def compare(
    single: Sequence[SingleCase],
    equal: ConcurrentCase | None,
    equal_minutes: float,
    seed: int,
) -> tuple[list[StrategyRow], list[CrowdRow]]:
    """The provider's own runs next to every peer on the same wait lengths."""
    minutes = [c.validation_minutes for c in single]
    rows = [provider_row(c) for c in single]
    rows += [peer_row(peer, m, seed) for peer in PEERS for m in minutes]
    crowd = [] if equal is None else [provider_crowd(equal, equal_minutes)]
    if equal is not None:
        crowd += [peer_crowd(p, equal.resources, equal_minutes, seed) for p in PEERS]
    return rows, crowd


def add_comparison(report: BenchReport, equal_minutes: float) -> None:
    """Fill the report's side-by-side rows from its own runs, once they have ended."""
    equal = next((c for c in report.concurrent if c.name == "equal"), None)
    report.side_by_side, report.crowd = compare(report.single, equal, equal_minutes, report.seed)
