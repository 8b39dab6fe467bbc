"""A ResponseURL that fails for a while, in every way a PUT to S3 can fail.

The sender gets a ``FlakyPut`` in front of the world's response sink: the scripted
attempts fail first (each kind in turn), every later one reaches the sink.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable

from custom_resource.response import Sender
from tests.conftest import World

Attempt = Callable[[float], int]
"""One scripted PUT attempt: (socket timeout) -> HTTP status, or raises."""


class FlakyPut:
    """Stands between the sender and the response sink: scripted attempts fail first."""

    def __init__(self, world: World, failures: list[Attempt]) -> None:
        self.world = world
        self.failures = list(failures)
        self.started_at: list[float] = []

    @property
    def attempts(self) -> int:
        return len(self.started_at)

    def __call__(self, url: str, body: bytes, timeout: float) -> int:
        self.started_at.append(self.world.clock())
        if self.failures:
            return self.failures.pop(0)(timeout)
        return self.world.sink.put(url, body, timeout)


def incomplete_read(timeout: float) -> int:
    raise http.client.IncompleteRead(b'{"Stat', 120)


def bad_status_line(timeout: float) -> int:
    raise http.client.BadStatusLine("HTTP/1.1 2OO OK")


def service_unavailable(timeout: float) -> int:
    return 503


def connection_reset(timeout: float) -> int:
    raise ConnectionResetError(104, "Connection reset by peer")


def socket_timeout(world: World) -> Attempt:
    """An attempt that hangs until its socket timeout: it takes that long on the clock."""

    def attempt(timeout: float) -> int:
        world.clock.advance(timeout)
        raise TimeoutError("timed out")

    return attempt


def failing(world: World, count: int) -> list[Attempt]:
    """``count`` failed attempts, every kind in turn: the fast ones first, then a hang."""
    kinds: list[Attempt] = [
        incomplete_read,
        bad_status_line,
        service_unavailable,
        connection_reset,
        socket_timeout(world),
    ]
    return [kinds[i % len(kinds)] for i in range(count)]


def flaky_sender(world: World, failures: int) -> FlakyPut:
    put = FlakyPut(world, failing(world, failures))
    world.runtime.sender = Sender(
        sleep=world.clock.sleep, rng=world.runtime.rng, put=put, clock=world.clock
    )
    return put
