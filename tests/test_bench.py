"""The benchmark on a reduced scale: the figures are sane and the results file is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.config import Config

from custom_resource.settings import Settings
from tools.bench import cli, targets
from tools.bench.account import ACM_LIMITS, ResourceSpec
from tools.bench.cases import RunOptions, run_concurrent, run_single
from tools.bench.cli import main
from tools.bench.peers import PEERS
from tools.bench.simulate import simulate, total_attempts
from tools.emulator import FunctionConfig, from_template

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
    assert (
        16 * 60 / 30
        <= case.describe_calls
        == case.describe_attempts
        <= 16 * 60 / (Settings().poll_min_seconds * 0.75)
    )


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


def test_main_prints_distributions_and_writes_only_untracked_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "DEFAULT_CHART", tmp_path / "chart.svg")
    monkeypatch.setattr(cli, "TRACKED_CHART", tmp_path / "tracked.svg")
    out = tmp_path / "results.json"
    args = ["--out", str(out), "--minutes", "2", "--crowds", "10", "--seeds", "2"]
    code = main([*args, "--processes", "1"])

    screen = capsys.readouterr().out
    assert code in (0, 1), screen
    assert "2 seeds (1-2)" in screen and "| 10 | this provider |" in screen
    assert "PASS  10 at once: waits not answered in time, p90 across seeds" in screen
    assert (tmp_path / "chart.svg").exists() and not (tmp_path / "tracked.svg").exists()
    results = json.loads(out.read_text())
    assert results["seeds"] == [1, 2] and results["passed"] == (code == 0)
    assert len(results["comparison"]["waits"]) == 2 * (1 + len(PEERS))


def test_reserved_concurrency_bounds_the_crowd_and_the_template_reserves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reserved, the function gets exactly that many executions: the other waits queue
    in Lambda and never run more at once."""
    assert from_template().reserved_concurrency is None, "unreserved unless a user sets it"
    monkeypatch.setattr(cli, "DEFAULT_CHART", tmp_path / "chart.svg")
    out = tmp_path / "results.json"
    args = ["--out", str(out), "--minutes", "2", "--crowds", "30", "--seeds", "1"]
    main([*args, "--processes", "1", "--reserved-concurrency", "5"])

    screen = capsys.readouterr().out
    assert "concurrency 5 (reserved)" in screen
    crowds = json.loads(out.read_text())["comparison"]["crowds"]
    assert crowds and all(c["peak_executions"] <= 5 for c in crowds)
    assert "PASS  30 at once: Lambda executions held, p90 across seeds: 5.0 (limit 5)" in screen


def test_a_failed_target_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(targets, "MAX_HOPS_45_MINUTES", 2)
    files = ["--out", str(tmp_path / "r.json"), "--chart", str(tmp_path / "c.svg")]
    code = main([*files, "--minutes", "45", "--crowds", "5", "--seeds", "1", "--processes", "1"])
    screen = capsys.readouterr().out
    assert code == 1
    assert "FAIL  one certificate: hops for 45 min, p90 across seeds: 4.0 (limit 2)" in screen
    assert "1 target(s) FAILED" in screen
    assert "running:" not in screen, "no progress line when the output is not a terminal"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resources", "-5"], "-5 is less than 0"),
        (["--spread-minutes", "40-5"], "the first number must not exceed the second"),
        (["--minutes", "abc"], "minutes: 'abc' is not a number"),
        (["--seeds", "0"], "0 is less than 1"),
    ],
)
def test_invalid_arguments_exit_2_in_the_users_terms(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "_" not in error.split("error:")[1].split(":")[0]


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
