"""The benchmark on a reduced scale: the figures are sane and the results file is written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from botocore.config import Config

from custom_resource.settings import Settings
from tools.bench import cases
from tools.bench.account import ACM_LIMITS, ResourceSpec
from tools.bench.cases import RunOptions, run_concurrent, run_single
from tools.bench.cli import main
from tools.bench.simulate import simulate, total_attempts
from tools.emulator import FunctionConfig

OPTIONS = RunOptions(Settings(), FunctionConfig(), seed=3)


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
    result = simulate(specs, settings=COLLIDING, function=FunctionConfig(), seed=1, limits=limits)

    log = result.calls
    assert log.throttled("RequestCertificate") > 0 and log.throttled("DescribeCertificate") > 0
    assert log.total("DescribeCertificate") > log.total("DescribeCertificate", "called")
    assert log.peak("DescribeCertificate", "accepted") == 1
    assert all(o.succeeded for o in result.resources)
    assert result.simulated_seconds > 120


def test_runs_are_deterministic_for_a_seed() -> None:
    first = run_concurrent("equal", [3] * 4, "all 3", OPTIONS)
    second = run_concurrent("equal", [3] * 4, "all 3", OPTIONS)
    assert {**first.__dict__, "real_s": 0} == {**second.__dict__, "real_s": 0}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_main_streams_each_case_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    screen = Terminal()
    args = ["--out", str(out), "--chart", str(tmp_path / "c.svg"), "--minutes", "16"]
    args += ["--resources", "5"]
    code = main([*args, "--equal-minutes", "2", "--spread-minutes", "1-3"], screen)

    assert code == 0
    text = screen.getvalue()
    running = text.index("running: one certificate, validated after 16 min")
    assert running < text.index("16 min ") < text.index("running: 5 at once, issued after all 2")
    assert "PASS  hops" not in text  # no 45-minute case was run
    assert "PASS  detection latency max (s), single certificate" in text
    assert "All 11 targets passed" in text
    results = json.loads(out.read_text())
    assert [c["hops"] for c in results["single"]] == [2]
    assert [c["resources"] for c in results["concurrent"]] == [5, 5]
    assert all(c["all_succeeded"] for c in results["concurrent"])
    assert results["function"]["memory_mb"] == 128 and results["passed"]


def test_a_failed_target_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cases, "MAX_HOPS_45_MINUTES", 2)
    files = ["--out", str(tmp_path / "r.json"), "--chart", str(tmp_path / "c.svg")]
    code = main([*files, "--minutes", "45", "--resources", "0"])
    screen = capsys.readouterr().out
    assert code == 1
    assert "FAIL  hops for a 45-minute validation: 4 (limit 2)" in screen
    assert "1 target(s) FAILED" in screen
    assert "running:" not in screen, "no progress line when the output is not a terminal"


def test_sdk_attempts_override_counts_every_http_attempt() -> None:
    specs = [ResourceSpec(f"Certificate{i}", f"c{i}.example.com", 60) for i in range(4)]
    limits = {"DescribeCertificate": 1, "RequestCertificate": 1}
    result = simulate(
        specs,
        settings=COLLIDING,
        function=FunctionConfig(),
        seed=1,
        limits=limits,
        sdk_total_attempts=1,
    )

    log = result.calls
    assert log.throttled("RequestCertificate") > 0
    for operation in ("RequestCertificate", "DescribeCertificate"):
        assert log.total(operation) == log.total(operation, "called")
    assert all(o.succeeded for o in result.resources)


def test_botocore_reads_max_attempts_as_retries() -> None:
    assert total_attempts(Config(retries={"mode": "standard", "max_attempts": 4})) == 5
    assert total_attempts(Config(retries={"total_max_attempts": 4})) == 4
