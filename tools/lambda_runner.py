"""A local Lambda service: every invocation runs in its own thread, on a compressed budget.

Like Lambda, it keeps execution environments: an invocation takes an idle one or
starts a new one (a cold start), and one environment never runs two invocations at
once. The context's remaining time is real time against a budget of a few seconds, so
a wait that would take minutes in AWS takes several self-re-invocations here.

``stop()`` makes every sleeping hop raise ``RunnerStopped`` (a BaseException, so no
handler turns it into a response), drops invocations that arrive afterwards and joins
every thread.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from custom_resource.request import RELAY_KEY

from .timeline import Timeline


class RunnerStopped(BaseException):
    """Raised in a hop's sleep when the runner shuts down: the hop ends, unanswered."""


class StopSignal:
    """A sleep that ends early, with ``RunnerStopped``, once the runner stops."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def sleep(self, seconds: float) -> None:
        if self._event.wait(max(0.0, seconds)):
            raise RunnerStopped

    def set(self) -> None:
        self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class LambdaContext:
    """The part of Lambda's context the provider uses; remaining time is real time."""

    invoked_function_arn: str
    budget_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128
    started: float = field(default_factory=time.monotonic)

    @property
    def function_name(self) -> str:
        return self.invoked_function_arn.split(":")[6]

    def get_remaining_time_in_millis(self) -> int:
        left = self.started + self.budget_seconds - time.monotonic()
        return max(0, int(left * 1000))


@dataclass
class Invocation:
    number: int
    function_arn: str
    invocation_type: str
    request_type: str
    request_id: str
    hop: int
    cold: bool = False
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    outcome: str = "running"
    """returned | error: ... | stopped (the runner shut down) | dropped (arrived after stop)"""
    over_budget: bool = False
    status: str = "-"
    """What the invocation last saw of its resource (set by instrumentation)."""
    result: Any = None

    @property
    def duration(self) -> float:
        return (self.ended or time.monotonic()) - self.started


class Environment(Protocol):
    """One warm execution environment: the function's handler, ready to run."""

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> Any: ...

    def close(self) -> None: ...


EnvironmentFactory = Callable[[str], Environment]
"""Starts an execution environment (a cold start) for a function ARN."""

_current = threading.local()


def current_invocation() -> Invocation | None:
    """The invocation running on this thread, for instrumentation hooks."""
    return getattr(_current, "invocation", None)


class LambdaRunner:
    def __init__(
        self,
        new_environment: EnvironmentFactory,
        budget_seconds: float,
        stop_signal: StopSignal,
        timeline: Timeline | None = None,
    ) -> None:
        self.new_environment = new_environment
        self.budget_seconds = budget_seconds
        self.stop_signal = stop_signal
        self.timeline = timeline
        self.invocations: list[Invocation] = []
        self._idle: dict[str, list[Environment]] = {}
        self._all: list[Environment] = []
        self._threads: list[threading.Thread] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def invoke(self, function_arn: str, event: dict[str, Any], invocation_type: str) -> Any:
        """Run the function; ``Event`` returns at once, ``RequestResponse`` waits."""
        relay = event.get(RELAY_KEY)
        hop = relay.get("Hop", 1) if isinstance(relay, dict) else 1
        invocation = Invocation(
            number=next(self._numbers),
            function_arn=function_arn,
            invocation_type=invocation_type,
            request_type=str(event.get("RequestType", "?")),
            request_id=str(event.get("RequestId", "")),
            hop=int(hop),
        )
        with self._lock:
            self.invocations.append(invocation)
            if self.stop_signal.is_set:
                invocation.outcome, invocation.ended = "dropped", time.monotonic()
                if invocation_type == "Event":
                    return None
                raise RuntimeError("the local Lambda runner has stopped")
            thread = threading.Thread(
                target=self._run,
                args=(invocation, event),
                name=f"lambda-invocation-{invocation.number}",
            )
            self._threads.append(thread)
            thread.start()
        if invocation_type == "Event":
            return None
        thread.join()
        if invocation.outcome.startswith("error"):
            raise RuntimeError(invocation.outcome)
        return invocation.result

    def _run(self, invocation: Invocation, event: dict[str, Any]) -> None:
        environment = self._acquire(invocation)
        context = LambdaContext(invocation.function_arn, self.budget_seconds)
        _current.invocation = invocation
        self._note(invocation, "invoked", "started" + (" (cold start)" if invocation.cold else ""))
        try:
            invocation.result = environment(event, context)
            invocation.outcome = "returned"
        except RunnerStopped:
            invocation.outcome = "stopped"
        except Exception as exc:
            invocation.outcome = f"error: {type(exc).__name__}: {exc}"
            self._note(invocation, "error", f"function error: {type(exc).__name__}: {exc}")
        finally:
            _current.invocation = None
            invocation.ended = time.monotonic()
            invocation.over_budget = invocation.duration > self.budget_seconds
            if invocation.over_budget and invocation.outcome != "stopped":
                self._note(
                    invocation,
                    "timeout",
                    f"ran {invocation.duration:.1f} s, over its {self.budget_seconds:g} s budget",
                )
            with self._lock:
                self._idle.setdefault(invocation.function_arn, []).append(environment)

    def _acquire(self, invocation: Invocation) -> Environment:
        with self._lock:
            idle = self._idle.get(invocation.function_arn)
            if idle:
                return idle.pop()
        invocation.cold = True
        environment = self.new_environment(invocation.function_arn)
        with self._lock:
            self._all.append(environment)
        return environment

    def _note(self, invocation: Invocation, kind: str, what: str) -> None:
        if self.timeline is not None:
            self.timeline.add(
                invocation.request_type, invocation.hop, invocation.status, what, kind
            )

    def running(self) -> list[Invocation]:
        with self._lock:
            return [i for i in self.invocations if i.ended is None]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation runs; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop every hop, join every thread, close every environment; False if one hung."""
        self.stop_signal.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        joined = not any(t.is_alive() for t in threads)
        with self._lock:
            environments, self._all = self._all, []
            self._idle.clear()
        for environment in environments:
            environment.close()
        return joined
