"""Pacing: virtual time that does not run ahead of real time times a speed.

The demo scales an hour of simulated time to a few real seconds, so a person can follow
the events as they happen; tests and the benchmark use no pacer (infinite speed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Tick = Callable[[float], None]
"""Called while waiting for real time, with the virtual seconds elapsed so far."""


@dataclass
class Pacer:
    speed: float
    """Virtual seconds per real second; ``math.inf`` never waits."""
    tick: Tick | None = None
    tick_seconds: float = 0.1
    """Real seconds between two ticks (a spinner's frame)."""
    real_clock: Callable[[], float] = time.monotonic
    real_sleep: Callable[[float], None] = time.sleep
    _anchor: tuple[float, float] | None = field(default=None, init=False)
    """(real, virtual) seconds of the last time the two were in step."""

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("the speed must be positive")

    def wait_until(self, virtual: float) -> None:
        """Return once real time has caught up with ``virtual`` elapsed seconds."""
        if math.isinf(self.speed):
            return
        real = self.real_clock()
        if self._anchor is None:
            self._anchor = (real, virtual)
        anchor_real, anchor_virtual = self._anchor
        due = anchor_real + (virtual - anchor_virtual) / self.speed
        while (left := due - self.real_clock()) > 0:
            self.real_sleep(min(left, self.tick_seconds))
            if self.tick is not None:
                elapsed_real = self.real_clock() - anchor_real
                self.tick(min(virtual, anchor_virtual + elapsed_real * self.speed))
        if self.real_clock() - due > self.tick_seconds:
            self._anchor = (self.real_clock(), virtual)  # fell behind: do not race to catch up
