"""What happened during a local run, as a list of events that listeners see as they occur.

Every part of the demo (the Lambda, the provider instrumentation, the CloudFormation
driver) writes here, stamped with the virtual clock; the output module only reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from tools.emulator import Invocation


@dataclass(frozen=True)
class Event:
    elapsed: float
    """Virtual seconds since the run started."""
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

    def __init__(self, clock: Callable[[], float]) -> None:
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

    def note(self, invocation: Invocation | None, what: str, kind: str = "info") -> Event:
        """An event of ``invocation`` (its request, hop and last seen status), if any."""
        if invocation is None:
            return self.add("-", None, "", what, kind)
        return self.add(invocation.request_type, invocation.hop, invocation.status, what, kind)

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)


def short_arn(arn: str) -> str:
    """``…/certificate/1a2b3c4d``: enough to tell certificates apart on a terminal."""
    return "…/" + arn.rsplit(":", 1)[-1][:20] if arn.startswith("arn:") else arn
