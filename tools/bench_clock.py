"""Virtual time for concurrent simulated invocations: threads that take turns.

Every simulated invocation runs in a thread of its own, but only one thread runs at a
time. A thread runs until it sleeps or ends; it then hands the turn to the earliest
pending wake-up (a sleeping thread, a new one, or a scheduled action) and the clock
jumps there. Code under test keeps its ordinary blocking ``sleep``, runs unmodified and
never waits for real; a run is deterministic for a given seed.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable

Action = Callable[[], None]


class SimulationAborted(BaseException):
    """Unwinds a simulated thread once the run failed (not an ``Exception``, so the code
    under test cannot swallow it)."""


class VirtualTime:
    """A shared clock plus a scheduler of simulated threads and timed actions."""

    def __init__(self, start: float = 1_800_000_000.0, horizon_seconds: float = 3 * 3600) -> None:
        self.start = start
        self.now = start
        self.horizon = start + horizon_seconds
        self.switches = 0
        self._queue: list[tuple[float, int, threading.Event | Action]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._turn = threading.local()
        self._error: BaseException | None = None

    def __call__(self) -> float:
        """Epoch seconds: the clock a ``Runtime`` and a ``FakeContext`` read."""
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    @property
    def failed(self) -> bool:
        return self._error is not None

    def at(self, elapsed: float, action: Action) -> None:
        """Run ``action`` once the clock reaches ``elapsed`` seconds past the start."""
        self._push(self.start + elapsed, action)

    def spawn(self, body: Action, delay: float = 0.0, name: str = "simulated") -> None:
        """Start ``body`` in a new simulated thread ``delay`` seconds from now."""
        go = threading.Event()
        thread = threading.Thread(target=self._thread, args=(go, body), name=name, daemon=True)
        thread.start()
        self._push(self.now + delay, go)

    def sleep(self, seconds: float) -> None:
        """Block the calling simulated thread for ``seconds`` of virtual time."""
        go: threading.Event | None = getattr(self._turn, "go", None)
        if go is None:
            raise RuntimeError("sleep() outside a simulated thread would be a real sleep")
        if seconds < 0:
            raise ValueError(f"negative sleep {seconds}")
        go.clear()
        self._push(self.now + seconds, go)
        self._pass_turn()
        go.wait()
        if self._error is not None:
            raise SimulationAborted

    def run(self, real_timeout: float = 300.0) -> None:
        """Run until nothing is left to do; re-raise the first error of any thread."""
        self._pass_turn()
        if not self._finished.wait(real_timeout):
            self._fail(TimeoutError(f"simulation still running after {real_timeout:.0f} s"))
            self._finished.wait(10)
        if self._error is not None:
            raise self._error

    def _thread(self, go: threading.Event, body: Action) -> None:
        go.wait()
        self._turn.go = go
        try:
            if self._error is None:
                body()
        except SimulationAborted:
            pass
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._pass_turn()

    def _push(self, when: float, item: threading.Event | Action) -> None:
        with self._lock:
            heapq.heappush(self._queue, (when, next(self._order), item))

    def _pop(self) -> tuple[float, threading.Event | Action] | None:
        with self._lock:
            if not self._queue:
                return None
            when, _, item = heapq.heappop(self._queue)
            return when, item

    def _pass_turn(self) -> None:
        """Wake the earliest thread (running due actions on the way), or finish."""
        while (entry := self._pop()) is not None:
            when, item = entry
            if self._error is None and when > self.horizon:
                self._fail(RuntimeError("simulation ran past its horizon; is a chain endless?"))
            if self._error is not None:
                if isinstance(item, threading.Event):
                    item.set()
                continue
            self.now = max(self.now, when)
            if isinstance(item, threading.Event):
                self.switches += 1
                item.set()
                return
            try:
                item()
            except BaseException as exc:
                self._fail(exc)
        self._finished.set()

    def _fail(self, exc: BaseException) -> None:
        """Keep the first error; every waiting thread then unwinds with SimulationAborted."""
        with self._lock:
            if self._error is None:
                self._error = exc
