"""The side-by-side bench: each peer's model behaves as its source says, the world applies
its limits, the provider's model agrees with the real handler, and the generated block and
chart are what the bench makes of its default seeds."""

from __future__ import annotations

import xml.dom.minidom
from pathlib import Path

import pytest

from custom_resource.settings import Settings
from tools.bench import readme
from tools.bench.cases import RunOptions, run_concurrent
from tools.bench.chart import svg
from tools.bench.compare import (
    CROWD_SIZES,
    PROVIDER,
    SEEDS,
    CompareOptions,
    Comparison,
    compare,
    crowd,
    peer_wait,
    strategies,
)
from tools.bench.peers import PEERS, POLICY_STATEMENTS, Peer
from tools.bench.rows import CrowdRow, Dist, Wait
from tools.bench.targets import evaluate, new_report
from tools.bench.world import (
    INIT_S,
    INVOKE,
    REGIONAL_CONCURRENCY,
    Lambda,
    Resource,
    Waiting,
    World,
    run,
)

ROOT = Path(__file__).resolve().parents[1]
BY_KEY = {p.key: p for p in PEERS}
SMALL = CompareOptions(minutes=(2.0, 70.0), sizes=(20,))


def peer(key: str) -> Peer:
    return BY_KEY[key]


def wait(key: str, minutes: float, seed: int = 1) -> Wait:
    p = peer(key)
    return peer_wait(p.label, p.strategy, minutes, seed)


def test_crhelper_polls_per_its_rule_and_answers_after_cloudformation_gave_up() -> None:
    quick, late = wait("crhelper", 10), wait("crhelper", 70)
    best = wait("crhelper-1", 10)

    assert quick.answer == "SUCCESS" and quick.latency_s is not None
    assert 0 <= quick.latency_s <= 120 and best.latency_s is not None and best.latency_s <= 60
    assert quick.control_calls == 6, "put_rule, add_permission, put_targets and their undoing"
    assert late.answer == "NONE"


def test_crhelper_fails_past_the_function_policy_limit() -> None:
    options = CompareOptions(sizes=(100,))
    run = crowd(peer("crhelper").label, peer("crhelper").strategy, 100, 1, options)
    assert run.succeeded == POLICY_STATEMENTS and run.answered_in_time == 100


def test_recursive_loop_detection_stops_a_15_second_reinvoker_after_16_invocations() -> None:
    stopped, free = wait("reinvoke-16", 10), wait("reinvoke", 45)

    assert stopped.invocations == 16 and stopped.answer == "NONE"
    assert "recursive loop detection" in stopped.why
    assert free.answer == "SUCCESS" and 45 * 4 - 4 <= free.invocations <= 45 * 4 + 4


def test_the_cdk_waiter_gives_up_at_its_total_timeout_unless_raised() -> None:
    timed_out, best = wait("cdk", 45), wait("cdk-60", 45)

    assert timed_out.answer == "FAILED" and "30 min" in timed_out.why
    assert best.answer == "SUCCESS" and best.transitions > timed_out.transitions


def test_one_long_invocation_cannot_wait_past_its_waiter() -> None:
    row = wait("long", 10)
    assert row.invocations == 1 and row.answer == "FAILED" and "9.5 min" in row.why


def test_a_cold_start_bills_init_and_a_warm_one_does_not() -> None:
    world, r = World(1), Resource(0.0, 0.0)
    world.now = 1.0
    r.bill(world, 1.0)
    world.now = 2.0
    r.bill(world, 0.5)
    assert r.billed_ms == round((1.0 + INIT_S) * 1000) + 500 and r.invocations == 2


def test_lambda_postpones_events_past_its_concurrency_and_gives_up_at_the_event_age() -> None:
    world = World(1, function=Lambda(concurrency=1, event_age_s=100))
    answers: list[bool] = []

    def hold(seconds: float) -> Waiting:
        got = yield INVOKE
        answers.append(bool(got))
        if got:
            yield seconds
            world.function.free()

    run(world, [(0.0, hold(500)), (0.0, hold(1))])
    assert answers == [True, False] and world.function.peak == 1 and world.function.throttled


def test_the_provider_model_agrees_with_the_real_handler_on_a_small_crowd() -> None:
    """Twenty at once, validated after 8 minutes: both answer all, within the same bounds."""
    real = run_concurrent("equal", [8.0] * 20, "all 8", RunOptions(seed=2))
    model, label = strategies(SMALL)[0][1], PROVIDER
    world = World(2)
    resources = [Resource(8 * 60.0, 0.0) for _ in range(20)]
    world.resources = resources
    run(world, [(0.0, model(world, r)) for r in resources])
    latencies = [r.latency for r in resources if r.latency is not None]

    assert real.all_succeeded and len(latencies) == 20, label
    assert real.detection_latency_max_s is not None
    assert max(latencies) <= 2 * Settings().poll_max_seconds
    assert real.detection_latency_max_s <= 2 * Settings().poll_max_seconds


def test_seeds_give_distributions_and_the_chart_draws_them() -> None:
    comparison = compare([1, 2], SMALL, processes=1)
    document = xml.dom.minidom.parseString(svg(comparison.rows, comparison.crowd_rows, [1, 2]))
    texts = [
        node.data
        for t in document.getElementsByTagName("text")
        for node in t.childNodes
        if isinstance(node, xml.dom.minidom.Text)
    ]

    assert all(p.label in texts for p in PEERS)
    assert any("2 seeds (1-2)" in t and "Simulated time" in t for t in texts)
    own = [r for r in comparison.rows if r.strategy == PROVIDER]
    assert [r.seeds for r in own] == [2, 2] and own[0].succeeded == 2
    assert own[1].failed_in_time == 2, "70 min: FAILED before ServiceTimeout"
    assert {r.size for r in comparison.crowd_rows} == {20}


def test_quantiles_interpolate_between_ranks() -> None:
    d = Dist.of([float(x) for x in range(1, 11)])
    assert (d.median, d.p10, d.p90, d.low, d.high) == pytest.approx((5.5, 1.9, 9.1, 1, 10))


def test_the_generated_block_and_the_chart_match_the_committed_run() -> None:
    """The committed chart and block come from one default run; the provider's crowd rows
    and crowd targets are what its pacing gives today over the default seeds (the rest of
    a full run takes a minute: ``make bench ARGS=--write-readme``)."""
    text = (ROOT / readme.TARGET).read_text()
    block = text.split(readme.BEGIN)[1].split(readme.END)[0]
    chart = (ROOT / readme.CHART).read_text()

    assert "20 seeds (1-20)" in block and "20 seeds (1-20)" in chart
    for p in PEERS:
        assert f"| {p.label} |" in block and p.label in chart
    failing = "| **FAIL** |" in block
    assert ("a target FAILS" in block) == failing and ("every target passes" in block) != failing

    options, seeds = CompareOptions(), list(range(1, SEEDS + 1))
    model = strategies(options)[0][1]
    crowds = [crowd(PROVIDER, model, n, s, options) for n in CROWD_SIZES for s in seeds]
    rows = [CrowdRow.of([c for c in crowds if c.size == n]) for n in CROWD_SIZES]
    for line in readme.crowd_table(rows)[2:]:
        assert line in block, f"stale: run make bench ARGS=--write-readme ({line})"
    report = new_report(RunOptions(), seeds, REGIONAL_CONCURRENCY)
    report.targets = evaluate(Comparison(seeds, [], crowds, [], rows), REGIONAL_CONCURRENCY)
    for line in readme.targets_table(report)[2:]:
        assert line in block, f"stale: run make bench ARGS=--write-readme ({line})"
    assert report.passed, "the provider's crowds meet every target"


def test_rewrite_replaces_only_the_generated_block() -> None:
    from tools.bench.targets import BenchReport
    from tools.emulator import FunctionConfig

    report = BenchReport({}, FunctionConfig(), {}, {}, [1], 1000, Comparison([1], [], [], [], []))
    text = f"before\n{readme.BEGIN}\nold figures\n{readme.END}\nafter\n"
    rewritten = readme.rewrite(text, report)
    assert rewritten.startswith(f"before\n{readme.BEGIN}\n")
    assert rewritten.endswith(f"{readme.END}\nafter\n")
    assert "old figures" not in rewritten
    with pytest.raises(ValueError, match="markers"):
        readme.rewrite("no markers", report)
