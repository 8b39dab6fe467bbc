"""What a person (or a script) sees of the demo: event lines, a progress line, a summary.

Times are simulated (``h:mm:ss`` since the start). On a terminal, while the paced clock
waits for real time, a spinner line shows the simulated time, the hop and what it last
saw; it is erased before the next event line.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, TextIO

from .options import DemoOptions
from .scenario import Step
from .timeline import Event, short_arn

if TYPE_CHECKING:
    from .run import DemoResult

SPINNER = "|/-\\"
COLUMNS = ("operation", "result", "hops", "simulated", "certificate")


def clock_time(seconds: float) -> str:
    """``0:40:12``: simulated hours, minutes and seconds."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def event_line(event: Event) -> str:
    hop = f"hop {event.hop}" if event.hop else ""
    return (
        f"{clock_time(event.elapsed)}  {event.request_type:<7} {hop:<6} "
        f"{event.status:<18}  {event.what}"
    )


class Output:
    """Human output: one line per event as the simulated clock reaches it, a progress line
    while the clock waits for real time (on a terminal only), then the summary."""

    def __init__(self, stream: TextIO = sys.stdout, live: bool = True) -> None:
        self.stream = stream
        self.live = live
        self.spinner = live and stream.isatty()
        self._lock = threading.Lock()
        self._spinning = False
        self._frame = 0
        self._last: Event | None = None
        self._step: Step | None = None
        self._step_started = 0.0

    def _write(self, text: str) -> None:
        with self._lock:
            if self._spinning:
                self.stream.write("\r\x1b[K")
                self._spinning = False
            self.stream.write(text + "\n")
            self.stream.flush()

    # Timeline listener.

    def __call__(self, event: Event) -> None:
        if event.hop:
            self._last = event
        if self.live:
            self._write(event_line(event))

    # The pacer's tick: the simulated time while waiting for real time.

    def tick(self, elapsed: float) -> None:
        if not self.spinner or self._step is None:
            return
        last = self._last
        state = last.status if last and last.status not in ("", "-") else "running"
        where = f" - hop {last.hop}, {state}" if last else ""
        waited = clock_time(elapsed - self._step_started)
        with self._lock:
            self._frame += 1
            frame = SPINNER[self._frame % len(SPINNER)]
            self.stream.write(
                f"\r{frame} {clock_time(elapsed)}  {self._step.operation}: "
                f"waiting {waited}{where}\x1b[K"
            )
            self.stream.flush()
            self._spinning = True

    # Reporter protocol.

    def start(self, options: DemoOptions, template: str) -> None:
        if not self.live:
            return
        mode = f", failure mode: {options.fail}" if options.fail else ""
        speed = (
            f"shown at {options.speed:g}x (an hour in {3600 / options.speed:.0f} s)"
            if options.paced
            else "not paced"
        )
        self._write(
            "WaitForCertificate local demo: moto's AWS emulation on 127.0.0.1, the real "
            "handler on a local Lambda in simulated time\n"
            f"The function as {template} deploys it; certificates validate after "
            f"{options.validation_minutes:g} min{mode}; {speed}"
        )

    def step_started(self, step: Step, elapsed: float = 0.0) -> None:
        self._step, self._step_started, self._last = step, elapsed, None
        if self.live:
            self._write(f"\n== {step.operation}  (expected: {step.expected})")

    def step_finished(self, step: Step) -> None:
        self._step = None
        if not self.live:
            return
        mark = "refused by the provider" if step.refused else "ok" if step.ok else "NOT AS EXPECTED"
        hops = f", {step.hops} hop{'s' if step.hops != 1 else ''}" if step.hops else ""
        took = clock_time(step.elapsed or 0)
        self._write(f"   -> {step.result} ({took} simulated{hops})  [{mark}]")
        if step.refused:
            self._write(f"      reason: {step.refused}")
        for problem in step.problems:
            self._write(f"      problem: {problem}")

    def summary(self, result: DemoResult) -> None:
        self._write("\n".join(summary_lines(result)))


def summary_lines(result: DemoResult) -> list[str]:
    rows = [
        (
            s.operation,
            s.result + ("" if s.ok else "  <- NOT AS EXPECTED"),
            str(s.hops) if s.hops else "-",
            clock_time(s.elapsed) if s.elapsed is not None else "-",
            short_arn(s.certificate) if s.certificate else "-",
        )
        for s in result.steps
    ]
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = ["", "Summary"]
    for row in [COLUMNS, *rows]:
        cells = [
            row[i].rjust(widths[i]) if i in (2, 3) else row[i].ljust(widths[i])
            for i in range(len(COLUMNS))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    lines.append(
        f"Left behind: {len(result.leftover_certificates)} certificate(s), "
        f"{len(result.leftover_threads)} thread(s), {len(result.open_ports)} open port(s)"
    )
    if result.cleaned_up:
        lines.append(
            "A step failed: the demo deleted what it had created, as CloudFormation's "
            "rollback would (see 'Cleanup after the failure')."
        )
    if result.error:
        lines.append(f"Error: {result.error}")
    if result.interrupted:
        lines.append("Interrupted: everything that was started has been stopped.")
    simulated = f"({clock_time(result.simulated_seconds)} simulated)"
    if result.refused and result.ok:
        lines += [
            "Result: the provider refused the input, as it should; nothing was created "
            + simulated,
            f"  {result.refused}",
            "  Run again with names ACM accepts, e.g. --domain www.example.com.",
        ]
    else:
        verdict = "every step ended" if result.ok else "NOT every step ended"
        lines.append(f"Result: {verdict} as expected {simulated}")
    return lines


def json_report(result: DemoResult, events: list[Event]) -> str:
    options = {
        k: v if isinstance(v, int | float | tuple | type(None)) else str(v)
        for k, v in asdict(result.options).items()
    }
    if math.isinf(result.options.speed):
        options["speed"] = "inf"
    return json.dumps(
        {
            "ok": result.ok,
            "refused": result.refused,
            "options": options,
            "endpoint": result.endpoint,
            "steps": [s.to_json() for s in result.steps],
            "leftovers": result.leftovers(),
            "responses": result.responses,
            "simulated_seconds": round(result.simulated_seconds, 2),
            "error": result.error,
            "interrupted": result.interrupted,
            "events": [e.to_json() for e in events],
        },
        indent=2,
    )
