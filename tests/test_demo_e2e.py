"""`make demo` as an end-to-end test: the real templates and handler on moto's server.

Both runs go through the command line (``tools.demo.main``) with short delays: the
success path in ``--json`` mode, whose report is checked in detail, and the failure path
in the human format. Each also checks that nothing it started is left: certificates,
threads, listening ports.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest

from tools import demo

FAST = ["--budget", "1", "--in-use", "1"]


def _alive_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["operation"].split(" ->")[0]: s for s in report["steps"]}


def test_full_lifecycle_on_the_emulation(capsys: pytest.CaptureFixture[str]) -> None:
    before = _alive_threads()
    code = demo.main(["--json", "--validation-delay", "2.5", "--san", "api.example.com", *FAST])
    report = json.loads(capsys.readouterr().out)

    assert code == 0, report
    assert report["ok"] and report["error"] is None and not report["interrupted"]
    steps = _steps(report)
    assert [s["operation"] for s in report["steps"]] == [
        "Deploy provider stack",
        "Create stack",
        "Update: tag change",
        "Update: domain -> v2.www.example.com",
        "Cleanup Delete (old cert)",
        "Delete stack",
        "Delete provider stack",
    ]
    assert all(s["ok"] and not s["problems"] for s in report["steps"])

    # Stack statuses, as moto's CloudFormation reports them.
    assert steps["Deploy provider stack"]["result"] == "CREATE_COMPLETE"
    assert steps["Create stack"]["result"] == "CREATE_COMPLETE"
    assert steps["Delete stack"]["result"].endswith("; DELETE_COMPLETE")
    assert steps["Delete provider stack"]["result"] == "DELETE_COMPLETE"

    # Responses: exactly one per request, each SUCCESS; ARNs as CloudFormation expects.
    assert len(report["responses"]) == 5
    assert all(statuses == ["SUCCESS"] for statuses in report["responses"].values())
    created = steps["Create stack"]["certificate"]
    replaced = steps["Update: domain"]["certificate"]
    assert created.startswith("arn:aws:acm:us-east-1:123456789012:certificate/")
    assert steps["Update: tag change"]["certificate"] == created
    assert steps["Update: tag change"]["result"] == "SUCCESS, same ARN"
    assert replaced != created and steps["Update: domain"]["result"] == "SUCCESS, new ARN"
    assert steps["Cleanup Delete (old cert)"]["certificate"] == created
    assert steps["Cleanup Delete (old cert)"]["result"] == "SUCCESS, deleted"
    assert steps["Delete stack"]["certificate"] == replaced

    # Hops: the waits span several self-re-invocations; in-place changes need none.
    assert steps["Create stack"]["hops"] >= 3
    assert steps["Update: domain"]["hops"] >= 3
    assert steps["Delete stack"]["hops"] >= 2
    assert steps["Update: tag change"]["hops"] == 1
    assert steps["Cleanup Delete (old cert)"]["hops"] == 1

    kinds = {e["kind"] for e in report["events"]}
    assert {"requested", "records", "reinvoked", "sent", "in-use", "deleted"} <= kinds
    assert "timeout" not in kinds and "error" not in kinds and "log" not in kinds
    requested = [e for e in report["events"] if e["kind"] == "requested"]
    assert len(requested) == 2, "one certificate per Create and per replacement"

    # Nothing left behind.
    assert report["leftovers"] == {"certificates": [], "threads": [], "open_ports": []}
    assert _alive_threads() <= before
    assert report["endpoint"].startswith("http://127.0.0.1:")
    assert not _accepts(int(report["endpoint"].rsplit(":", 1)[1]))


def test_failure_path_rolls_back_and_deletes_the_certificate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _alive_threads()
    code = demo.main(["--fail", "validation", "--validation-delay", "0.5", *FAST])
    out = capsys.readouterr().out

    assert code == 0, out
    lines = out.splitlines()
    assert any("certificate FAILED (CAA_ERROR)" in line for line in lines)
    sent = "FAILED sent (HTTP 200): ACM certificate FAILED: CAA_ERROR"
    assert any(sent in line for line in lines)
    summary = lines[lines.index("Summary") :]
    create = next(line for line in summary if line.strip().startswith("Create stack"))
    assert "ROLLBACK_IN_PROGRESS: ACM certificate FAILED: CAA_ERROR" in create
    rollback = next(line for line in summary if line.strip().startswith("Rollback Delete"))
    assert "SUCCESS, deleted; ROLLBACK_COMPLETE" in rollback
    deleted = next(line for line in summary if "Delete stack (rolled back)" in line)
    assert "DELETE_COMPLETE" in deleted
    assert "Left behind: 0 certificate(s), 0 thread(s), 0 open port(s)" in summary
    assert any(line.startswith("Result: every step ended as expected") for line in summary)
    assert _alive_threads() <= before


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        demo.main(["--budget", "0.1"])
    assert exit_.value.code == 2
    assert "--budget" in capsys.readouterr().err
