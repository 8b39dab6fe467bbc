"""The provider's wait in the shared world (``world.py``), for crowds of hundreds.

The real handler on the emulator (``simulate.py``) is exact but takes about 0.1 s of real
time per resource and simulated minute; a thousand resources over twenty seeds would take
hours. Crowds therefore run this model of a wait, which calls the provider's own pacing
code (``pacing.Pacer``: the count after each step, the pace after it, the ``Settings``)
and follows the relay's loop: start jitter, first step (request, validation record, DNS
change; its throttling is the request quota's, not the polls'), polls with the jittered
pause, a hop handed off before the function's timeout, the deadline before
ServiceTimeout. An event Lambda gives up on is answered by the real last-resort
responder's Reason. ``tests/test_compare.py`` checks it against the real handler on a
small crowd.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from botocore.exceptions import ClientError

from custom_resource.pacing import CrowdGauge, Pace, Pacer
from custom_resource.responder import last_answer, parse_record
from custom_resource.settings import Settings
from tools.emulator import FunctionConfig, destination_record

from .account import ResourceSpec
from .world import INVOKE, Resource, Waiting, World

SERVICE_TIMEOUT_S = 3600.0
THROTTLED = ClientError({"Error": {"Code": "ThrottlingException"}}, "ListCertificates")


@functools.cache
def responder_reason(condition: str = "EventAgeExceeded") -> str:
    """What the product's last-resort responder answers for an event Lambda gave up on."""
    spec = ResourceSpec("Certificate", "www.example.com", 0)
    record = destination_record(
        event=spec.event(),
        function_arn=FunctionConfig().arn,
        condition="EventAgeExceeded" if condition == "EventAgeExceeded" else "RetriesExhausted",
        invoke_count=0,
        timestamp=0.0,
        request_id="",
        error=None,
    )
    return last_answer(parse_record(record), "/aws/lambda/wait-for-certificate").reason


@dataclass(frozen=True)
class ProviderModel:
    settings: Settings
    function: FunctionConfig

    def __call__(self, world: World, r: Resource) -> Waiting:
        s, rng = self.settings, world.rng
        if not (yield INVOKE):
            r.respond(world.now, "FAILED", responder_reason())
            return
        hop_start = world.now
        deadline = SERVICE_TIMEOUT_S - min(s.deadline_margin_seconds, SERVICE_TIMEOUT_S / 10)
        yield rng.uniform(0, s.start_jitter_seconds)
        pacer = Pacer.start(
            CrowdGauge(s), Pace(s, s.poll_start_seconds, s.poll_min_seconds, True), rng, 0.0, False
        )
        stage = "request"
        while True:
            before, polled = r.throttled, stage == "poll"
            ok = True
            if stage == "request":
                ok = yield from world.call("RequestCertificate", who=r)
                if ok:
                    r.requested = True
                    stage = "record"
            if ok and stage == "record":
                ok = yield from world.call("DescribeCertificate", who=r)
                ok = ok and (yield from world.call("ChangeResourceRecordSets", who=r))
                if ok:
                    stage = "poll"
                    r.describe_calls += 1
                    r.record_written(world.now)
            elif ok and stage == "poll":
                r.describe_calls += 1
                ok = yield from world.call("DescribeCertificate", who=r)
                if ok and world.now >= r.visible_at:
                    r.bill(world, world.now - hop_start)
                    world.function.free()
                    r.respond(world.now, "SUCCESS")
                    return
            congested = not ok or (polled and r.throttled > before)
            if stage == "poll" and pacer.due(world.now):
                counted = yield from world.call("ListCertificates", who=r)
                pacer.counted(world.now, world.pending() if counted else None)
            interval = pacer.pace.step(congested)
            if world.now >= deadline:
                r.bill(world, world.now - hop_start)
                world.function.free()
                r.respond(world.now, "FAILED", "Gave up before CloudFormation's ServiceTimeout")
                return
            wait = min(interval * rng.uniform(0.75, 1.0), deadline - world.now)
            left = self.function.timeout_seconds - (world.now - hop_start)
            if left - wait < s.handoff_margin_seconds:
                r.bill(world, world.now - hop_start)
                world.function.free()
                if not (yield INVOKE):
                    r.respond(world.now, "FAILED", responder_reason())
                    return
                hop_start = world.now
                wait = min(interval * rng.uniform(0.75, 1.0), max(0.0, deadline - world.now))
            yield wait
