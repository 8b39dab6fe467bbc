"""The demo's local Lambda runner and its wiring into moto's Lambda (tools/)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zipfile
from typing import Any

from tools.emulation import Emulation
from tools.lambda_runner import LambdaContext, LambdaRunner, StopSignal

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


class Echo:
    """An environment that records where it ran and sleeps as long as the event asks."""

    def __init__(self, stop: StopSignal) -> None:
        self.stop = stop
        self.threads: list[str] = []
        self.closed = False

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> Any:
        self.threads.append(threading.current_thread().name)
        self.stop.sleep(event.get("sleep", 0))
        return {"echo": event.get("value"), "left": context.get_remaining_time_in_millis()}

    def close(self) -> None:
        self.closed = True


def make_runner(budget: float = 2.0) -> tuple[LambdaRunner, list[Echo]]:
    stop = StopSignal()
    started: list[Echo] = []

    def new_environment(function_arn: str) -> Echo:
        started.append(Echo(stop))
        return started[-1]

    return LambdaRunner(new_environment, budget, stop), started


def test_sync_invocation_runs_in_its_own_thread_and_returns_the_result() -> None:
    runner, environments = make_runner()
    result = runner.invoke(ARN, {"value": 1}, "RequestResponse")

    assert result["echo"] == 1 and 0 < result["left"] <= 2000
    [environment] = environments
    assert environment.threads[0].startswith("lambda-invocation-")
    assert environment.threads[0] != threading.current_thread().name
    assert runner.stop()


def test_event_invocation_returns_at_once_and_warm_environments_are_reused() -> None:
    runner, environments = make_runner()
    before = time.monotonic()
    assert runner.invoke(ARN, {"sleep": 0.3, "RequestType": "Create"}, "Event") is None
    assert time.monotonic() - before < 0.2
    assert runner.wait_idle(5)
    runner.invoke(ARN, {"value": 2}, "RequestResponse")

    assert len(environments) == 1, "the second invocation found the first one's environment"
    assert [i.cold for i in runner.invocations] == [True, False]
    assert [i.outcome for i in runner.invocations] == ["returned", "returned"]
    assert runner.invocations[0].request_type == "Create"
    assert runner.stop() and environments[0].closed


def test_concurrent_invocations_get_separate_environments() -> None:
    runner, environments = make_runner()
    runner.invoke(ARN, {"sleep": 0.3}, "Event")
    runner.invoke(ARN, {"sleep": 0.3}, "Event")
    assert runner.wait_idle(5)
    assert len(environments) == 2
    assert runner.stop()


def test_stop_ends_sleeping_hops_drops_later_events_and_joins_every_thread() -> None:
    before = set(threading.enumerate())
    runner, _ = make_runner(budget=60)
    runner.invoke(ARN, {"sleep": 30, "WaitForCertificate": {"Hop": 3}}, "Event")
    time.sleep(0.1)
    started = time.monotonic()

    assert runner.stop(timeout=5)
    assert time.monotonic() - started < 1
    assert runner.invoke(ARN, {}, "Event") is None
    [stopped, dropped] = runner.invocations
    assert (stopped.hop, stopped.outcome, dropped.outcome) == (3, "stopped", "dropped")
    assert set(threading.enumerate()) <= before


def test_moto_lambda_invocations_reach_the_runner_sync_and_event() -> None:
    runner, _ = make_runner()
    with Emulation(runner.invoke, validation_wait=0) as emulation:
        session = emulation.session()
        role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "")
        arn = session.client("lambda").create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        client = session.client("lambda")
        sync = client.invoke(FunctionName=arn, Payload=json.dumps({"value": "s"}).encode())
        event = client.invoke(FunctionName=arn, InvocationType="Event", Payload=b'{"value": 1}')
        assert runner.wait_idle(5)
        port = emulation.port

    assert json.loads(sync["Payload"].read())["echo"] == "s"
    assert event["StatusCode"] == 202
    assert [i.invocation_type for i in runner.invocations] == ["RequestResponse", "Event"]
    assert runner.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server's port is closed"
