"""One demo run: start every component, run the scenario, stop everything, check leftovers.

Components stop in reverse order of start, also on Ctrl-C or an error: the virtual clock
first (no hop outlives AWS), then the ResponseURL recorder, then moto's server.
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

from tools.emulator import Pacer, VirtualClock

from .cloudformation import StackDriver
from .function import ProviderFunction, ProviderLogs
from .moto_server import Emulation
from .options import DemoOptions
from .output import Output
from .responses import ResponseRecorder
from .scenario import Scenario, Step
from .timeline import Timeline
from .wait_for import WaitForScenario


@dataclass
class DemoResult:
    options: DemoOptions
    steps: list[Step]
    leftover_certificates: list[tuple[str, str]]
    endpoint: str = ""
    interrupted: bool = False
    error: str | None = None
    components_stopped: bool = True
    """Every thread of the clock ended when asked to."""
    leftover_threads: list[str] = field(default_factory=list)
    open_ports: list[int] = field(default_factory=list)
    """Ports the run listened on that still accept connections after it."""
    simulated_seconds: float = 0.0
    responses: dict[str, list[str]] = field(default_factory=dict)
    """RequestId -> the Status of every response CloudFormation received for it."""
    ports: list[int] = field(default_factory=list)

    @property
    def refused(self) -> str | None:
        """The provider's reason, when it refused the demo's input (e.g. ``--domain foo``)."""
        return next((s.refused for s in self.steps if s.refused), None)

    @property
    def cleaned_up(self) -> bool:
        return any(s.operation == "Cleanup after the failure" for s in self.steps)

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


def run(options: DemoOptions, output: Output) -> tuple[DemoResult, Timeline]:
    """Start everything, run the scenario, stop everything (also on Ctrl-C or failure)."""
    threads_before = set(threading.enumerate())
    pacer = Pacer(options.speed, output.tick) if options.paced and output.live else None
    clock = VirtualClock(pacer=pacer)
    timeline = Timeline(clock)
    timeline.listen(output)
    function = ProviderFunction(clock, timeline, options.provider_template, options.crash)
    emulation = Emulation(
        function.dispatch,
        clock,
        validation_wait=options.validation_minutes * 60,
        fail_validation=options.fail_validation,
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
            stack.callback(function.close)
            stack.callback(_stop_clock, clock, result)  # first to stop: no hop outlives AWS
            driver = StackDriver(emulation, recorder, timeline, clock)
            story = WaitForScenario if options.wait_for else Scenario
            scenario = story(options, clock, emulation, function, driver, output)
            try:
                scenario.run()
            except Exception as exc:  # the step says what happened; clean up all the same
                result.error = f"{type(exc).__name__}: {exc}"
            scenario.cleanup()
            scenario.delete_provider()
            result.responses = _responses(emulation, recorder)
            result.error = result.error or _protocol_problem(result.responses, emulation, recorder)
        except KeyboardInterrupt:
            result.interrupted = True
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            result.steps = scenario.steps if scenario else []
            result.simulated_seconds = clock.elapsed
            if result.ports:  # the emulation is up: what would a real account still hold?
                result.leftover_certificates = emulation.certificates()
    result.leftover_threads = _new_threads(threads_before)
    result.open_ports = [port for port in result.ports if _accepts(port)]
    return result, timeline


def _responses(emulation: Emulation, recorder: ResponseRecorder) -> dict[str, list[str]]:
    received: dict[str, list[str]] = {}
    for body in emulation.patches.cfn_responses:
        received.setdefault(str(body.get("RequestId")), []).append(str(body.get("Status")))
    for key, bodies in recorder.responses.items():
        received.setdefault(key, []).extend(str(b.get("Status")) for b in bodies)
    return received


def _protocol_problem(
    responses: dict[str, list[str]], emulation: Emulation, recorder: ResponseRecorder
) -> str | None:
    """Exactly one well-formed response per request."""
    violations = [*emulation.patches.violations, *recorder.violations]
    if violations:
        return f"protocol violation: {violations[0]}"
    repeated = {k: v for k, v in responses.items() if len(v) != 1}
    return f"more than one response to a request: {repeated}" if repeated else None


def _new_threads(before: set[threading.Thread], grace: float = 30.0) -> list[str]:
    """Threads started by the run still alive after ``grace`` seconds to finish (a local
    server's request thread may still be closing its connection)."""
    started = [t for t in threading.enumerate() if t not in before]
    deadline = time.monotonic() + grace
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in started if t.is_alive()]


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop_clock(clock: VirtualClock, result: DemoResult) -> None:
    result.components_stopped = clock.shutdown()
