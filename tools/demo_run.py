"""One demo run: start every component, run the scenario, stop everything, check leftovers.

Components stop in reverse order of start, also on Ctrl-C or an error: the Lambda
runner first (no hop outlives AWS), then the ResponseURL recorder, then moto's server.
Afterwards the run checks what it would have left behind: certificates in the emulated
ACM, threads it started, ports that still accept connections.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .demo_scenario import FAILURE_MODES, DemoOptions, Reporter, Scenario, Step
from .emulation import Emulation
from .lambda_runner import LambdaRunner, StopSignal
from .provider_env import ProviderEnvironments, ProviderLogs
from .response_recorder import ResponseRecorder
from .stack_driver import StackDriver
from .timeline import Timeline


@dataclass
class DemoResult:
    options: DemoOptions
    steps: list[Step]
    leftover_certificates: list[tuple[str, str]]
    endpoint: str = ""
    interrupted: bool = False
    error: str | None = None
    components_stopped: bool = True
    """Every runner thread ended when asked to."""
    leftover_threads: list[str] = field(default_factory=list)
    open_ports: list[int] = field(default_factory=list)
    """Ports the run listened on that still accept connections after it."""
    total_seconds: float = 0.0
    responses: dict[str, list[str]] = field(default_factory=dict)
    """RequestId -> the Status of every response CloudFormation received for it."""
    ports: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.interrupted
            and self.error is None
            and self.components_stopped
            and not self.leftover_certificates
            and not self.leftover_threads
            and not self.open_ports
            and bool(self.steps)
            and all(s.ok for s in self.steps)
        )

    def leftovers(self) -> dict[str, Any]:
        return {
            "certificates": [arn for arn, _ in self.leftover_certificates],
            "threads": self.leftover_threads,
            "open_ports": self.open_ports,
        }


def run(options: DemoOptions, timeline: Timeline, reporter: Reporter) -> DemoResult:
    """Start everything, run the scenario, stop everything (also on Ctrl-C or failure)."""
    threads_before = set(threading.enumerate())
    stop = StopSignal()
    # The runner's cold starts read the function from the emulation, and the emulation
    # hands every invocation to the runner: the knot is tied by this late-bound lookup.
    runners: list[LambdaRunner] = []
    emulation = Emulation(
        lambda arn, event, kind: runners[0].invoke(arn, event, kind),
        validation_wait=options.validation_delay,
        fail_validation=FAILURE_MODES[options.fail] if options.fail else None,
        region=options.region,
    )
    result = DemoResult(options, [], [])
    scenario: Scenario | None = None
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(ProviderLogs(timeline))
            stack.enter_context(emulation)
            result.endpoint = emulation.endpoint
            recorder = stack.enter_context(ResponseRecorder())
            result.ports = [emulation.port, recorder.port]
            timeline.add(
                "-",
                None,
                "",
                f"moto server on {emulation.endpoint}, ResponseURL recorder "
                f"on 127.0.0.1:{recorder.port}",
                "setup",
            )
            environments = ProviderEnvironments(
                emulation, stop, timeline, options.provider_settings()
            )
            runner = LambdaRunner(environments, options.budget, stop, timeline)
            runners.append(runner)
            stack.callback(_stop_runner, runner, result)  # first to stop: no hop outlives AWS
            driver = StackDriver(emulation, recorder, timeline)
            scenario = Scenario(options, emulation, runner, driver, reporter)
            scenario.run()
            runner.wait_idle(5.0)
            scenario.delete_provider()
            result.responses = _responses(emulation, recorder)
            result.error = _protocol_problem(result.responses, recorder)
        except KeyboardInterrupt:
            result.interrupted = True
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            result.steps = scenario.steps if scenario else []
            if result.ports:  # the emulation is up: what would a real account still hold?
                result.leftover_certificates = emulation.certificates()
    result.leftover_threads = _new_threads(threads_before)
    result.open_ports = [port for port in result.ports if _accepts(port)]
    result.total_seconds = timeline.elapsed()
    return result


def _responses(emulation: Emulation, recorder: ResponseRecorder) -> dict[str, list[str]]:
    received: dict[str, list[str]] = {}
    for body in emulation.patches.cfn_responses:
        received.setdefault(str(body.get("RequestId")), []).append(str(body.get("Status")))
    for key, bodies in recorder.responses.items():
        received.setdefault(key, []).extend(str(b.get("Status")) for b in bodies)
    return received


def _protocol_problem(responses: dict[str, list[str]], recorder: ResponseRecorder) -> str | None:
    """Exactly one well-formed response per request (SPEC section 6)."""
    if recorder.violations:
        return f"protocol violation: {recorder.violations[0]}"
    repeated = {k: v for k, v in responses.items() if len(v) != 1}
    return f"more than one response to a request: {repeated}" if repeated else None


def _new_threads(before: set[threading.Thread], grace: float = 3.0) -> list[str]:
    """Threads started by the run that are still alive (after a grace period)."""
    deadline = time.monotonic() + grace
    while True:
        alive = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop_runner(runner: LambdaRunner, result: DemoResult) -> None:
    result.components_stopped = runner.stop(timeout=10.0)
