"""The benchmark on a reduced scale: the figures are sane and the results file is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.config import Config

from custom_resource.settings import Settings
from tools.bench import (
    LambdaShape,
    RunOptions,
    main,
    run_concurrent,
    run_single,
    template_lambda,
)
from tools.bench_clock import VirtualTime
from tools.bench_world import ACM_LIMITS, ResourceSpec, simulate, total_attempts

OPTIONS = RunOptions(Settings(), LambdaShape(900.0, 128), seed=3)


COLLIDING = Settings(start_jitter_seconds=0)
"""Requests made at the same instant, so the simulated limits are certain to be hit."""


def test_single_certificate_after_16_minutes_takes_two_hops_within_the_poll_cap() -> None:
    case = run_single(16, OPTIONS)

    assert case.status == "SUCCESS"
    assert case.hops == 2
    assert case.detection_latency_s is not None
    assert 0 <= case.detection_latency_s <= Settings().poll_max_seconds
    assert case.responded_after_s == pytest.approx(16 * 60 + case.detection_latency_s)
    assert case.billed_ms[0] < 900_000 and sum(case.billed_ms) >= 16 * 60 * 1000
    settings = Settings()
    assert (
        900 - settings.handoff_margin_seconds - settings.poll_max_seconds
        < case.longest_hop_s
        <= 900 - settings.handoff_margin_seconds
    )
    assert case.gb_s == pytest.approx(case.billed_s * 128 / 1024)
    assert 16 * 60 / 30 <= case.describe_calls == case.describe_attempts <= 16 * 60 / 5


def test_ten_at_once_all_succeed_within_acm_limits() -> None:
    case = run_concurrent("equal", [16] * 10, "all 16", OPTIONS)

    assert case.all_succeeded and case.succeeded == 10
    assert case.hops_max == 2
    assert case.detection_latency_max_s is not None
    assert case.detection_latency_max_s <= Settings().poll_max_seconds
    load = case.describe
    assert load.peak_accepted_per_s <= ACM_LIMITS["DescribeCertificate"]
    assert load.accepted + load.throttled == load.attempts >= load.calls
    assert case.request.accepted == 10
    assert case.environments <= 10 and case.peak_concurrency == 10


def test_throttling_is_retried_in_virtual_time_and_every_wait_still_ends() -> None:
    specs = [ResourceSpec(f"Certificate{i}", f"c{i}.example.com", 120) for i in range(6)]
    limits = {"DescribeCertificate": 1, "RequestCertificate": 1}
    result = simulate(specs, settings=COLLIDING, budget_seconds=900, seed=1, limits=limits)

    log = result.calls
    assert log.throttled("RequestCertificate") > 0 and log.throttled("DescribeCertificate") > 0
    assert log.total("DescribeCertificate") > log.total("DescribeCertificate", "called")
    assert log.peak("DescribeCertificate", "accepted") == 1
    assert all(o.succeeded for o in result.resources)
    assert result.real_seconds < 10 < result.simulated_seconds


def test_runs_are_deterministic_for_a_seed() -> None:
    first = run_concurrent("equal", [3] * 4, "all 3", OPTIONS)
    second = run_concurrent("equal", [3] * 4, "all 3", OPTIONS)
    assert {**first.__dict__, "real_s": 0} == {**second.__dict__, "real_s": 0}


def test_virtual_time_interleaves_sleepers_and_timers_in_order() -> None:
    clock = VirtualTime(start=0.0)
    seen: list[tuple[str, float]] = []

    def sleeper(name: str, naps: list[float]) -> None:
        for nap in naps:
            clock.sleep(nap)
            seen.append((name, clock()))

    clock.spawn(lambda: sleeper("a", [5, 5]))
    clock.spawn(lambda: sleeper("b", [3, 4]), delay=1)
    clock.at(6, lambda: seen.append(("timer", clock())))
    clock.run()
    assert seen == [("b", 4), ("a", 5), ("timer", 6), ("b", 8), ("a", 10)]


def test_virtual_time_reports_an_error_of_any_thread() -> None:
    clock = VirtualTime()

    def broken() -> None:
        clock.sleep(1)
        raise ValueError("boom")

    clock.spawn(lambda: clock.sleep(100))
    clock.spawn(broken)
    with pytest.raises(ValueError, match="boom"):
        clock.run(real_timeout=10)
    with pytest.raises(RuntimeError, match="real sleep"):
        clock.sleep(1)


def test_template_shape_is_read_from_the_provider_template() -> None:
    shape = template_lambda()
    assert (shape.timeout_seconds, shape.memory_mb) == (900, 128)


def test_main_prints_targets_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    args = ["--out", str(out), "--minutes", "16", "--resources", "5"]
    code = main([*args, "--equal-minutes", "2", "--spread-minutes", "1-3"])
    assert code == 0
    screen = capsys.readouterr().out
    assert "PASS  hops" not in screen  # no 45-minute case was run
    assert "PASS  detection latency <= poll cap, single certificate" in screen
    results = json.loads(out.read_text())
    assert [c["hops"] for c in results["single"]] == [2]
    assert [c["resources"] for c in results["concurrent"]] == [5, 5]
    assert all(c["all_succeeded"] for c in results["concurrent"])
    assert results["lambda_shape"]["memory_mb"] == 128
    assert {t["name"] for t in results["targets"] if not t["passed"]} <= {
        n for n in (t["name"] for t in results["targets"]) if "attempted" in n
    }


def test_sdk_attempts_override_counts_every_http_attempt() -> None:
    specs = [ResourceSpec(f"Certificate{i}", f"c{i}.example.com", 60) for i in range(4)]
    limits = {"DescribeCertificate": 1, "RequestCertificate": 1}
    result = simulate(
        specs, settings=COLLIDING, budget_seconds=900, seed=1, limits=limits, sdk_total_attempts=1
    )

    log = result.calls
    assert log.throttled("RequestCertificate") > 0
    for operation in ("RequestCertificate", "DescribeCertificate"):
        assert log.total(operation) == log.total(operation, "called")
    assert all(o.succeeded for o in result.resources)


def test_botocore_reads_max_attempts_as_retries() -> None:
    assert total_attempts(Config(retries={"mode": "standard", "max_attempts": 4})) == 5
    assert total_attempts(Config(retries={"total_max_attempts": 4})) == 4
