"""The side-by-side bench: each peer's model behaves as its source says, and the generated
block of docs/benchmark.md and the committed chart are what the bench produces for its
seed."""

from __future__ import annotations

import xml.dom.minidom
from pathlib import Path

import pytest

from tools.bench import readme
from tools.bench.cases import RunOptions, new_report, run_cases
from tools.bench.chart import svg
from tools.bench.compare import COMPARE_MINUTES, PROVIDER, compare, peer_crowd, peer_row
from tools.bench.peers import PEERS, Peer

ROOT = Path(__file__).resolve().parents[1]
BY_KEY = {p.key: p for p in PEERS}


def peer(key: str) -> Peer:
    return BY_KEY[key]


def test_crhelper_polls_every_two_minutes_and_answers_after_cloudformation_gave_up() -> None:
    quick = peer_row(peer("crhelper"), 10, seed=1)
    late = peer_row(peer("crhelper"), 70, seed=1)

    assert quick.outcome == "SUCCESS" and quick.detection_latency_s is not None
    assert 0 <= quick.detection_latency_s <= 120
    assert quick.scheduled_events == 5 and quick.invocations == 6
    assert not late.answered_in_time and "CloudFormation fails it at 60 min" in late.outcome


def test_recursive_loop_detection_stops_a_15_second_reinvoker_after_16_invocations() -> None:
    stopped = peer_row(peer("reinvoke-16"), 10, seed=1)
    free = peer_row(peer("reinvoke"), 45, seed=1)

    assert stopped.invocations == 16 and not stopped.answered_in_time
    assert "recursive loop detection" in stopped.outcome
    assert free.outcome == "SUCCESS" and 45 * 4 <= free.invocations <= 45 * 4 + 2
    assert free.detection_latency_s is not None and free.detection_latency_s <= 15


def test_the_cdk_waiter_gives_up_at_its_total_timeout_and_bills_transitions() -> None:
    done = peer_row(peer("cdk"), 10, seed=1)
    timed_out = peer_row(peer("cdk"), 45, seed=1)

    assert done.outcome == "SUCCESS" and done.detection_latency_s is not None
    assert done.detection_latency_s <= 5
    assert done.invocations == 2 * done.describe_calls + 2
    assert timed_out.outcome.startswith("FAILED at 30.")
    assert timed_out.state_transitions == 362 and timed_out.answered_in_time


def test_one_long_invocation_cannot_wait_past_its_waiter() -> None:
    row = peer_row(peer("long"), 10, seed=1)
    assert row.invocations == 1 and row.outcome.startswith("FAILED at 9.")
    assert row.gb_s == pytest.approx(9 * 60 * 0.125, rel=0.05)


def test_a_hundred_cdk_waiters_at_5_s_are_mostly_throttled() -> None:
    crowd = peer_crowd(peer("cdk"), 100, 5, seed=1)
    assert crowd.throttled_percent > 20
    assert crowd.succeeded >= 90


def test_the_readme_block_and_the_chart_match_a_fresh_run() -> None:
    """The provider's single runs and every peer, at the bench's default seed; the
    100-at-once figures of the peers too (the provider's own take the full bench)."""
    options = RunOptions()
    report = new_report(options)
    for _ in run_cases(options, report, single_minutes=COMPARE_MINUTES, resources=0):
        pass
    rows, _ = compare(report.single, None, 20.0, options.seed)
    crowd = [peer_crowd(p, 100, 20.0, options.seed) for p in PEERS]
    text = (ROOT / readme.TARGET).read_text()
    block = text.split(readme.BEGIN)[1].split(readme.END)[0]

    assert (ROOT / readme.CHART).read_text() == svg(rows), "run make bench ARGS=--write-readme"
    for line in readme.strategy_table(rows) + readme.crowd_table(crowd)[4:]:
        assert line in block, f"{readme.TARGET}'s block is stale: {line}"
    assert f"| {PROVIDER} | 100/100 |" in block


def test_the_chart_is_one_svg_with_a_legend_entry_per_strategy() -> None:
    rows = [peer_row(p, 2, seed=1) for p in PEERS]
    document = xml.dom.minidom.parseString(svg(rows))
    labels = [
        node.data
        for t in document.getElementsByTagName("text")
        for node in t.childNodes
        if isinstance(node, xml.dom.minidom.Text)
    ]
    assert all(p.label in labels for p in PEERS)


def test_rewrite_replaces_only_the_generated_block() -> None:
    report = new_report(RunOptions())
    text = f"before\n{readme.BEGIN}\nold figures\n{readme.END}\nafter\n"
    rewritten = readme.rewrite(text, report)
    assert rewritten.startswith(f"before\n{readme.BEGIN}\n") and rewritten.endswith(
        f"{readme.END}\nafter\n"
    )
    assert "old figures" not in rewritten
    with pytest.raises(ValueError, match="markers"):
        readme.rewrite("no markers", report)
