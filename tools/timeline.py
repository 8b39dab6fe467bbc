"""What happened during a local run, as a list of events that listeners see as they occur.

Every part of the demo (the Lambda runner, the provider instrumentation, the
CloudFormation driver) writes here; the output module only reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    elapsed: float
    """Seconds since the run started."""
    request_type: str
    """Create, Update, Delete, or "stack" for CloudFormation's own status changes."""
    hop: int | None
    status: str
    """The certificate status as last seen, or a stack status."""
    what: str
    kind: str = "info"
    """A short machine-readable tag: invoked, requested, records, reinvoked, sent, ..."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Listener = Callable[[Event], None]


class Timeline:
    """A thread-safe event log with a start time and synchronous listeners."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._listeners: list[Listener] = []

    def elapsed(self) -> float:
        return self._clock() - self.started

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add(
        self,
        request_type: str,
        hop: int | None,
        status: str,
        what: str,
        kind: str = "info",
    ) -> Event:
        with self._lock:
            event = Event(round(self.elapsed(), 3), request_type, hop, status, what, kind)
            self._events.append(event)
            for listener in self._listeners:
                listener(event)
        return event

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)
