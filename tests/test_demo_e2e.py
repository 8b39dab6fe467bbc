"""`make demo` as an end-to-end test: the real templates and handler on moto's server.

Every run goes through the command line (``tools.demo.cli.main``) in simulated time, not
paced (``--json`` and ``--quiet`` are not; ``--speed inf`` elsewhere): the outcomes are
the same on any machine, so the tests assert them exactly (responses, ids, certificates,
hops), never how long anything took. Each run also checks that nothing it started is
left: certificates, threads, listening ports.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest

from tools.demo.cli import main

FAST = ["--validation-minutes", "16", "--in-use-minutes", "5"]
"""Two hops for the certificate, one for the release: enough to show a relay."""


def _alive_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["operation"].split(" ->")[0]: s for s in report["steps"]}


def _run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    before = _alive_threads()
    code = main(["--json", *args])
    report = json.loads(capsys.readouterr().out)
    assert report["leftovers"] == {"certificates": [], "threads": [], "open_ports": []}
    assert _alive_threads() <= before
    assert not _accepts(int(report["endpoint"].rsplit(":", 1)[1]))
    return code, report


def test_full_lifecycle_as_make_demo_runs_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run_json(capsys, "--san", "api.example.com")

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
    assert steps["Delete stack"]["result"] == "SUCCESS, deleted; DELETE_COMPLETE"
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

    # Hops, with the template's 900 s timeout: 40 minutes of validation take three
    # invocations, 20 minutes in use two; in-place changes need one.
    hops = {name: step["hops"] for name, step in steps.items()}
    assert hops == {
        "Deploy provider stack": None,
        "Create stack": 3,
        "Update: tag change": 1,
        "Update: domain": 3,
        "Cleanup Delete (old cert)": 1,
        "Delete stack": 2,
        "Delete provider stack": None,
    }
    assert steps["Create stack"]["elapsed"] >= 40 * 60

    kinds = {e["kind"] for e in report["events"]}
    assert {"requested", "records", "reinvoked", "sent", "in-use", "deleted"} <= kinds
    assert not kinds & {"timeout", "error", "retry", "gave-up", "log"}
    requested = [e for e in report["events"] if e["kind"] == "requested"]
    assert len(requested) == 2, "one certificate per Create and per replacement"


def test_failure_path_rolls_back_and_deletes_the_certificate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _alive_threads()
    code = main(["--fail", "validation", "--speed", "inf", *FAST])
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


def test_a_name_the_provider_refuses_is_reported_as_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _alive_threads()
    code = main(["--quiet", "--domain", "foo"])
    out = capsys.readouterr().out

    assert code == 2, out
    assert out.lstrip().startswith("Summary"), "--quiet prints the summary only"
    lines = out.splitlines()
    create = next(line for line in lines if line.strip().startswith("Create stack"))
    assert "ROLLBACK_IN_PROGRESS: the provider refused the input" in create
    assert "NOT AS EXPECTED" not in out
    rollback = next(line for line in lines if line.strip().startswith("Rollback Delete"))
    assert "SUCCESS, nothing to delete; ROLLBACK_COMPLETE" in rollback
    assert "Left behind: 0 certificate(s), 0 thread(s), 0 open port(s)" in lines
    result = lines.index(next(line for line in lines if line.startswith("Result:")))
    assert lines[result].startswith("Result: the provider refused the input, as it should")
    assert lines[result + 1].strip().startswith("Invalid properties: DomainName: 'foo'")
    assert _alive_threads() <= before


def test_a_failed_step_is_cleaned_up_and_a_mixed_case_domain_works(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The certificate outlasts the ServiceTimeout: the provider gives up (in time), the
    demo says so and deletes what it created. With a mixed-case name, the records went
    into the (lower-case) hosted zone: the reason is the deadline, not Route 53."""
    code, report = _run_json(capsys, "--domain", "WWW.Example.COM", "--validation-minutes", "70")

    assert code == 1 and not report["ok"]
    steps = _steps(report)
    create = steps["Create stack"]
    assert not create["ok"] and create["result"] == "ROLLBACK_IN_PROGRESS"
    assert any("Gave up after 57 min" in p for p in create["problems"])
    assert create["hops"] == 5
    cleanup = steps["Cleanup after the failure"]
    assert cleanup["ok"]
    assert cleanup["result"].endswith("SUCCESS, deleted; stack DELETE_COMPLETE")
    assert steps["Delete provider stack"]["ok"]
    records = [e["what"] for e in report["events"] if e["kind"] == "records"]
    assert records and "www.example.com." in records[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--speed", "0"],
        ["--validation-minutes", "-1"],
        ["--quiet", "--json"],
        ["--wait-for", "--fail", "crash"],
    ],
)
def test_bad_arguments_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert args[0] in capsys.readouterr().err


def test_a_crashing_chain_is_answered_by_the_last_resort_responder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--fail crash``: hop 1 dies right after its certificate request, on every delivery;
    Lambda gives up; the on-failure destination runs the responder, which answers FAILED
    with the create-failed marker; the rollback Delete finds the certificate by its tags."""
    before = _alive_threads()
    code = main(["--fail", "crash", "--speed", "inf", *FAST])
    out = capsys.readouterr().out

    assert code == 0, out
    lines = out.splitlines()
    assert sum("Lambda retries the event" in line for line in lines) == 2
    assert any("Lambda gives up on the event (RetriesExhausted)" in line for line in lines)
    assert any("Record" in line and "FAILED sent (HTTP 200)" in line for line in lines)
    summary = lines[lines.index("Summary") :]
    create = next(line for line in summary if line.strip().startswith("Create stack"))
    assert "ROLLBACK_IN_PROGRESS: The WaitForCertificate provider stopped without answering" in (
        create
    )
    rollback = next(line for line in summary if line.strip().startswith("Rollback Delete"))
    assert "SUCCESS, deleted; ROLLBACK_COMPLETE" in rollback
    assert "Left behind: 0 certificate(s), 0 thread(s), 0 open port(s)" in summary
    assert _alive_threads() <= before


def test_wait_for_waits_for_an_object_uploaded_minutes_later(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = _run_json(capsys, "--wait-for", "--validation-minutes", "20")

    assert code == 0, report
    assert [s["operation"] for s in report["steps"]] == [
        "Deploy provider stack",
        "Create stack (Custom::WaitFor)",
        "Delete stack (Custom::WaitFor)",
        "Delete provider stack",
    ]
    create = _steps(report)["Create stack (Custom::WaitFor)"]
    assert create["result"].startswith("CREATE_COMPLETE, ETag ")
    assert create["certificate"].startswith("WaitFor:s3:ObjectExists:")
    assert create["hops"] >= 2 and 20 * 60 <= create["elapsed"] < 21 * 60
