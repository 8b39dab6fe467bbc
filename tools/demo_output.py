"""What a person (or a script) sees of the demo: event lines, a spinner, a summary."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict
from typing import TextIO

from .demo_run import DemoResult
from .demo_scenario import DemoOptions, Step
from .provider_env import short_arn
from .timeline import Event

SPINNER = "|/-\\"
COLUMNS = ("operation", "result", "hops", "elapsed", "certificate")


def event_line(event: Event) -> str:
    hop = f"hop {event.hop}" if event.hop else ""
    return (
        f"{event.elapsed:7.2f}s  {event.request_type:<7} {hop:<6} {event.status:<18}  {event.what}"
    )


class Output:
    """Human output: one line per event, a spinner while waiting (on a terminal only)."""

    def __init__(self, stream: TextIO = sys.stdout, live: bool = True) -> None:
        self.stream = stream
        self.live = live
        self.spinner = live and stream.isatty()
        self._lock = threading.Lock()
        self._spinning = False
        self._frame = 0
        self._last: Event | None = None
        self._step_started = time.monotonic()

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

    # Reporter protocol.

    def start(self, options: DemoOptions) -> None:
        if not self.live:
            return
        mode = f", failure mode: {options.fail}" if options.fail else ""
        self._write(
            "WaitForCertificate local demo: moto's AWS emulation on 127.0.0.1, the real "
            f"handler in a local Lambda runner\nLambda budget {options.budget:g} s per "
            f"invocation, certificates validate after {options.validation_delay:g} s{mode}"
        )

    def step_started(self, step: Step) -> None:
        self._step_started = time.monotonic()
        self._last = None
        if self.live:
            self._write(f"\n== {step.operation}  (expected: {step.expected})")

    def waiting(self, step: Step) -> None:
        if not self.spinner:
            return
        waited = time.monotonic() - self._step_started
        last = self._last
        state = last.status if last and last.status not in ("", "-") else "running"
        where = f" - hop {last.hop}, {state}" if last else ""
        with self._lock:
            self._frame += 1
            frame = SPINNER[self._frame % len(SPINNER)]
            self.stream.write(f"\r{frame} {step.operation}: waiting {waited:4.1f} s{where}\x1b[K")
            self.stream.flush()
            self._spinning = True

    def step_finished(self, step: Step) -> None:
        if not self.live:
            return
        mark = "ok" if step.ok else "NOT AS EXPECTED"
        hops = f", {step.hops} hop{'s' if step.hops != 1 else ''}" if step.hops else ""
        self._write(f"   -> {step.result} ({step.elapsed or 0:.1f} s{hops})  [{mark}]")
        for problem in step.problems:
            self._write(f"      problem: {problem}")

    def summary(self, result: DemoResult) -> None:
        rows = [
            (
                s.operation,
                s.result + ("" if s.ok else "  <- NOT AS EXPECTED"),
                str(s.hops) if s.hops else "-",
                f"{s.elapsed:.1f} s" if s.elapsed is not None else "-",
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
        if result.error:
            lines.append(f"Error: {result.error}")
        if result.interrupted:
            lines.append("Interrupted: everything that was started has been stopped.")
        verdict = (
            "every step ended as expected" if result.ok else "NOT every step ended as expected"
        )
        lines.append(f"Result: {verdict} (total {result.total_seconds:.1f} s)")
        self._write("\n".join(lines))


def json_report(result: DemoResult, events: list[Event]) -> str:
    options = {
        k: str(v) if not isinstance(v, int | float | tuple | type(None)) else v
        for k, v in asdict(result.options).items()
    }
    return json.dumps(
        {
            "ok": result.ok,
            "options": options,
            "endpoint": result.endpoint,
            "steps": [s.to_json() for s in result.steps],
            "leftovers": result.leftovers(),
            "responses": result.responses,
            "total_seconds": round(result.total_seconds, 2),
            "error": result.error,
            "interrupted": result.interrupted,
            "events": [e.to_json() for e in events],
        },
        indent=2,
    )
