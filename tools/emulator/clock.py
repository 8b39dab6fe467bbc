"""Virtual time: one clock for the tests, the demo and the benchmark.

Every thread that sleeps on the clock is a *participant*, and only one participant runs
at a time (it holds the turn). A participant runs until it sleeps, waits or ends; it
then passes the turn to the earliest thing due (a sleeper to wake, a thread to start, a
timed action) and the clock jumps there. Code under test keeps its ordinary blocking
``sleep``, runs unmodified and never waits for real, so a run is the same whatever the
machine's load: nothing depends on wall-clock speed.

A thread that blocks on another one (an HTTP call to a local server) lends it the turn:
what that thread schedules or sleeps happens within the caller's turn.

With a ``Pacer`` the clock does not run ahead of real time times a speed: the demo shows
each event as the simulated clock reaches it.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .pace import Pacer

Action = Callable[[], None]
DEFAULT_START = 1_800_000_000.0
"""Epoch seconds of a new clock (2027-01-15): far from now, so nothing mixes it up with
real time."""


class Aborted(BaseException):
    """Unwinds a participant once the run failed or was shut down (not an ``Exception``,
    so the code under test cannot swallow it)."""


class DeadlineExceeded(BaseException):
    """Raised in the sleep of a participant that reached its deadline (a Lambda timeout)."""


class Stalled(RuntimeError):
    """A wait can never end: nothing is left to run and its condition does not hold."""


@dataclass(eq=False)
class _Ticket:
    """One blocking wait of a participant: set when it gets the turn back."""

    condition: Callable[[], bool] | None = None
    event: threading.Event = field(default_factory=threading.Event)
    woken: bool = False
    outcome: str = ""
    """``time`` (its moment came), ``condition`` (it held), ``stalled`` or ``aborted``."""


@dataclass(frozen=True)
class _Start:
    body: Action
    name: str


class VirtualClock:
    """Epoch seconds that move only when every participant waits."""

    def __init__(
        self,
        start: float = DEFAULT_START,
        *,
        pacer: Pacer | None = None,
        horizon_seconds: float | None = None,
    ) -> None:
        self.start = start
        self.now = start
        self.pacer = pacer
        self.horizon = None if horizon_seconds is None else start + horizon_seconds
        self.slept = 0.0
        """Seconds slept in total, by every participant."""
        self.switches = 0
        """How often the turn went to another thread (a measure of the work done)."""
        self._heap: list[tuple[float, int, _Ticket | _Start | Action]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._waiters: list[_Ticket] = []
        self._local = threading.local()
        self._threads: list[threading.Thread] = []
        self._error: BaseException | None = None

    def __call__(self) -> float:
        """Epoch seconds: what a ``Runtime`` and a Lambda context read."""
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    @property
    def failed(self) -> bool:
        return self._error is not None

    # Scheduling.

    def at(self, elapsed: float, action: Action) -> None:
        """Run ``action`` once the clock reaches ``elapsed`` seconds past its start (at once
        if it already has)."""
        when = self.start + elapsed
        if when <= self.now:
            action()
        else:
            self._push(when, action)

    def spawn(self, body: Action, delay: float = 0.0, name: str = "virtual") -> None:
        """Start ``body`` as a new participant ``delay`` seconds from now."""
        self._push(self.now + delay, _Start(body, name))

    # Waiting (the caller is a participant holding the turn).

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass for the caller; past its deadline (see
        ``deadline``), sleep until the deadline and raise ``DeadlineExceeded``."""
        self.advance(seconds)
        self.slept += seconds

    def advance(self, seconds: float) -> None:
        """Move the caller ``seconds`` on (a sleep not counted in ``slept``)."""
        if seconds < 0:
            raise ValueError(f"negative sleep {seconds}")
        deadline: float | None = getattr(self._local, "deadline", None)
        if deadline is not None and self.now + seconds > deadline:
            self._block(_Ticket(), max(self.now, deadline))
            raise DeadlineExceeded(f"deadline {deadline - self.start:.0f} s reached")
        self._block(_Ticket(), self.now + seconds)

    def wait_until(
        self, condition: Callable[[], bool], timeout: float | None = None, what: str = ""
    ) -> bool:
        """Let others run until ``condition()`` holds (True) or ``timeout`` seconds of virtual
        time have passed (False). Raise ``Stalled`` if nothing is left that could make it
        hold."""
        if condition():
            return True
        ticket = _Ticket(condition)
        self._waiters.append(ticket)
        self._block(ticket, None if timeout is None else self.now + timeout)
        if ticket.outcome == "stalled":
            raise Stalled(f"nothing is left to run, and {what or 'the condition'} never held")
        return ticket.outcome == "condition"

    def run(self) -> None:
        """Let everything scheduled run, timed actions included, until nothing is left."""
        with contextlib.suppress(Stalled):
            self.wait_until(lambda: False)

    @contextlib.contextmanager
    def deadline(self, when: float) -> Iterator[None]:
        """The calling participant's sleeps end at ``when`` (epoch seconds) at the latest."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = when
        try:
            yield
        finally:
            self._local.deadline = previous

    def shutdown(self, join_seconds: float = 10.0) -> bool:
        """Unwind every participant and drop what is scheduled; False if a thread hung."""
        self._fail(Aborted("the clock was shut down"))
        self._release_all()
        for thread in list(self._threads):
            thread.join(join_seconds)
        return not any(t.is_alive() for t in self._threads)

    # The turn.

    def _push(self, when: float, item: _Ticket | _Start | Action) -> None:
        with self._lock:
            heapq.heappush(self._heap, (when, next(self._order), item))

    def _pop(self) -> tuple[float, _Ticket | _Start | Action] | None:
        with self._lock:
            if not self._heap:
                return None
            when, _, item = heapq.heappop(self._heap)
            return when, item

    def _block(self, ticket: _Ticket, until: float | None) -> None:
        """Give up the turn until ``ticket`` is woken; re-raise a failure of the run."""
        if until is not None:
            self._push(until, ticket)
        self._pass_turn()
        ticket.event.wait()
        if ticket.outcome == "aborted":
            if getattr(self._local, "spawned", False) or self._error is None:
                raise Aborted
            raise self._error

    def _pass_turn(self) -> None:
        """Hand the turn to whoever is next, running due actions on the way."""
        while True:
            if self._error is not None:
                self._release_all()
                return
            for ticket in list(self._waiters):
                if self._holds(ticket):
                    self._wake(ticket, "condition")
                    return
            entry = self._pop()
            if entry is None:
                if self._waiters:
                    self._wake(self._waiters[0], "stalled")
                return
            when, item = entry
            if isinstance(item, _Ticket) and item.woken:
                continue  # the timeout of a wait whose condition held earlier
            if self.horizon is not None and when > self.horizon:
                self._fail(RuntimeError("the run passed its horizon; is a chain endless?"))
                continue
            if self.pacer is not None:
                self.pacer.wait_until(when - self.start)
            self.now = max(self.now, when)
            if isinstance(item, _Ticket):
                self._wake(item, "time")
                return
            if isinstance(item, _Start):
                self._start(item)
                return
            try:
                item()
            except BaseException as exc:
                self._fail(exc)

    def _holds(self, ticket: _Ticket) -> bool:
        assert ticket.condition is not None
        try:
            return ticket.condition()
        except BaseException as exc:
            self._fail(exc)
            return False

    def _wake(self, ticket: _Ticket, outcome: str) -> None:
        if ticket in self._waiters:
            self._waiters.remove(ticket)
        ticket.woken, ticket.outcome = True, outcome
        self.switches += 1
        ticket.event.set()

    def _start(self, start: _Start) -> None:
        thread = threading.Thread(
            target=self._participant, args=(start.body,), name=start.name, daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        self.switches += 1
        thread.start()

    def _participant(self, body: Action) -> None:
        self._local.spawned = True
        try:
            if self._error is None:
                body()
        except Aborted:
            pass
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._pass_turn()

    def _fail(self, exc: BaseException) -> None:
        """Keep the first error; every participant then unwinds."""
        with self._lock:
            if self._error is None:
                self._error = exc

    def _release_all(self) -> None:
        with self._lock:
            pending, self._heap = self._heap, []
        tickets = [item for _, _, item in pending if isinstance(item, _Ticket)]
        for ticket in [*self._waiters, *tickets]:
            if not ticket.woken:
                self._wake(ticket, "aborted")
