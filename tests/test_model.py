"""Model-based test: CloudFormation's sequences, searched by Hypothesis.

A small model of one stack holding one ``Custom::WaitForCertificate`` drives the real
handler through the test harness (moto, the fake clock, the in-process Lambda). Its rules
are what CloudFormation and Lambda do: Create, Update (in place and by replacement) and
Delete; a FAILED Create followed by its rollback Delete; a FAILED Update followed by the
rollback Update of the same resource; a successful replacement followed by cleanup, or by
a rollback (another resource failed) and cleanup of the replacement; UpdateReplacePolicy
Retain; duplicate and late deliveries; a crash at any AWS call followed by Lambda's retry;
validation that issues, fails or never finishes.

After every step the invariants hold:
- every request has exactly one final answer (a duplicate delivery may only repeat it);
- every answer arrives within ServiceTimeout of the request's signing time;
- the certificate the stack references exists, and so does every retained one;
- once the stack settles, no certificate exists that the stack does not reference;
- no more than 6 hops per started hour of waiting.

CI runs a fixed, derandomized set of examples; ``make test-deep`` searches far more.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from moto import mock_aws
from moto import settings as moto_settings
from moto.acm.models import CertBundle

from custom_resource.settings import Settings
from tests.conftest import World, build_world, make_event, signed_url
from tests.lifecycle_helpers import crash_once, delete_event, deliver_until_done, update_event

settings.register_profile(
    "ci",
    max_examples=40,
    stateful_step_count=8,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "deep", max_examples=600, stateful_step_count=10, database=None, deadline=None
)
PROFILE = os.environ.get("WFC_MODEL_PROFILE", "ci")
MODEL_SETTINGS = Settings(poll_start_seconds=30, poll_min_seconds=30)
"""The model checks sequences, answers and hop counts, not the poll cadence (test_relay.py
and the bench do): polling every 30 s, the cap, an hour of waiting takes a fifth of the
steps the 5 s floor would, so a search covers as many sequences in a fraction of the time."""

DOMAINS = ("example.com", "example.org", "www.example.com")
CRASH_POINTS = (
    "acm.RequestCertificate",
    "acm.DescribeCertificate",
    "acm.ListTagsForCertificate",
    "acm.AddTagsToCertificate",
    "acm.DeleteCertificate",
    "route53.ChangeResourceRecordSets",
    "lambda.Invoke",
)


@dataclass(frozen=True)
class Delivery:
    """How Lambda delivers one request's first hop."""

    late_minutes: int = 0
    duplicate: bool = False
    crash: tuple[str, bool] | None = None
    """Crash the invocation once at this AWS call (before it, or just after it)."""


@dataclass(frozen=True)
class Validation:
    """What ACM does with certificates requested by one request."""

    outcome: str  # "issues" | "fails" | "never"
    minutes: int


deliveries = st.builds(
    Delivery,
    late_minutes=st.sampled_from([0, 0, 2, 13]),
    duplicate=st.booleans(),
    crash=st.none() | st.tuples(st.sampled_from(CRASH_POINTS), st.booleans()),
)
validations = st.builds(
    Validation,
    outcome=st.sampled_from(["issues", "issues", "fails", "never"]),
    minutes=st.sampled_from([1, 20, 50]),
)


class StackModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._mock = mock_aws()
        self._mock.start()
        self._patch = pytest.MonkeyPatch()
        self._patch.setattr(moto_settings, "ACM_VALIDATION_WAIT", 10**9)
        self.world: World = build_world(MODEL_SETTINGS)
        self._patch.setattr(CertBundle, "describe", self.world.describe_hook())
        self.zones = {apex: self.world.hosted_zone(apex) for apex in ("example.com", "example.org")}
        self.current: str | None = None
        self.props: dict[str, Any] | None = None
        self.retained: set[str] = set()
        self.signed: dict[str, tuple[float, int]] = {}
        """Per RequestId: the signing time and the ServiceTimeout."""
        self.first_hop_at: dict[str, float] = {}
        self.hops: dict[str, int] = {}
        """Per RequestId: the highest hop number any of its invocations ran."""

    def teardown(self) -> None:
        self._patch.undo()
        self._mock.stop()

    def zone(self, domain: str) -> str:
        return self.zones[".".join(domain.split(".")[-2:])]

    # CloudFormation's requests

    def send(self, event: dict[str, Any], delivery: Delivery, validation: Validation) -> None:
        """Sign and deliver one request as Lambda would, until its chain ends."""
        world = self.world
        event["ResponseURL"] = signed_url(world.clock())
        timeout = int(event["ResourceProperties"].get("ServiceTimeout", 3600))
        self.signed[event["RequestId"]] = (world.clock(), timeout)
        world.clock.advance(delivery.late_minutes * 60)
        self._validate({c.arn for c in world.certificates()}, validation)
        self.first_hop_at[event["RequestId"]] = world.clock()
        if delivery.crash:
            crash_once(world, *delivery.crash)
        first = len(world.lam.invocations)
        deliver_until_done(world, event, copies=2 if delivery.duplicate else 1)
        if delivery.crash:
            world.hooks.pop(delivery.crash[0], None)
            world.after_hooks.pop(delivery.crash[0], None)
        self.hops[event["RequestId"]] = max(i.hop for i in world.lam.invocations[first:])

    def _validate(self, known: set[str], validation: Validation) -> None:
        if validation.outcome == "never":
            return
        status = "ISSUED" if validation.outcome == "issues" else "FAILED"

        def decide() -> None:
            for cert in self.world.certificates():
                if cert.arn not in known and cert.status == "PENDING_VALIDATION":
                    cert.status = status

        self.world.clock.at(self.world.clock.elapsed + validation.minutes * 60, decide)

    def answer(self, event: dict[str, Any]) -> dict[str, Any]:
        """The answer CloudFormation acts on: the first one."""
        return self.answers()[event["RequestId"]][0]

    def answers(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for body in self.world.sink.bodies:
            grouped[body["RequestId"]].append(body)
        return grouped

    def delete(self, physical_id: str, props: dict[str, Any], delivery: Delivery) -> None:
        event = delete_event(physical_id, props)
        self.send(event, delivery, Validation("never", 0))
        body = self.answer(event)
        assert body["Status"] == "SUCCESS", f"DELETE_FAILED: {body['Reason']}"

    # Rules

    @precondition(lambda self: self.current is None)
    @rule(
        domain=st.sampled_from(DOMAINS),
        timeout=st.sampled_from(["1800", "3600"]),
        delivery=deliveries,
        validation=validations,
        other_resource_fails=st.booleans(),
    )
    def create(
        self,
        domain: str,
        timeout: str,
        delivery: Delivery,
        validation: Validation,
        other_resource_fails: bool,
    ) -> None:
        self.world.stack_status("CREATE_IN_PROGRESS")
        event = make_event(
            DomainName=domain, HostedZoneId=self.zone(domain), ServiceTimeout=timeout
        )
        self.send(event, delivery, validation)
        body = self.answer(event)
        props = event["ResourceProperties"]
        if body["Status"] == "FAILED" or other_resource_fails:
            self.world.stack_status("ROLLBACK_IN_PROGRESS")
            self.delete(body["PhysicalResourceId"], props, Delivery())
        else:
            self.current, self.props = body["PhysicalResourceId"], props

    @precondition(lambda self: self.current is not None)
    @rule(
        domain=st.sampled_from(DOMAINS),
        tag=st.sampled_from(["1", "2"]),
        delivery=deliveries,
        validation=validations,
        other_resource_fails=st.booleans(),
        retain=st.booleans(),
        rollback_delivery=deliveries,
    )
    def update(
        self,
        domain: str,
        tag: str,
        delivery: Delivery,
        validation: Validation,
        other_resource_fails: bool,
        retain: bool,
        rollback_delivery: Delivery,
    ) -> None:
        assert self.current is not None and self.props is not None
        old_id, old_props = self.current, self.props
        self.world.stack_status("UPDATE_IN_PROGRESS")
        tags = [{"Key": "v", "Value": tag}]
        zone = self.zone(domain)
        update = update_event(old_id, old_props, DomainName=domain, HostedZoneId=zone, Tags=tags)
        self.send(update, delivery, validation)
        body = self.answer(update)
        new_props = update["ResourceProperties"]
        if body["Status"] == "SUCCESS" and not other_resource_fails:
            self.current, self.props = body["PhysicalResourceId"], new_props
            if self.current != old_id:  # UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
                if retain:
                    self.retained.add(old_id)
                else:
                    self.delete(old_id, old_props, Delivery())
            return
        # UPDATE_ROLLBACK_IN_PROGRESS: a FAILED Update keeps the old id.
        held = body["PhysicalResourceId"] if body["Status"] == "SUCCESS" else old_id
        self.world.stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
        rollback = update_event(held, new_props, old_props)
        self.send(rollback, rollback_delivery, Validation("issues", 1))
        answer = self.answer(rollback)
        assert answer["Status"] == "SUCCESS", f"UPDATE_ROLLBACK_FAILED: {answer['Reason']}"
        self.current, self.props = answer["PhysicalResourceId"], old_props
        if held != self.current:  # UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS
            self.delete(held, new_props, Delivery())

    @precondition(lambda self: self.current is not None)
    @rule(delivery=deliveries)
    def delete_stack(self, delivery: Delivery) -> None:
        assert self.current is not None and self.props is not None
        self.world.stack_status("DELETE_IN_PROGRESS")
        self.delete(self.current, self.props, delivery)
        self.current, self.props = None, None

    # Invariants

    @invariant()
    def one_answer_per_request_within_its_service_timeout(self) -> None:
        answers = self.answers()
        assert set(answers) == set(self.signed), "a request went unanswered"
        for request_id, answered_at in self._first_answer_times().items():
            signed, timeout = self.signed[request_id]
            assert answered_at - signed <= timeout, f"answered {answered_at - signed:.0f} s late"
        for body, at in zip(self.world.sink.bodies, self.world.sink.times, strict=True):
            signed, timeout = self.signed[body["RequestId"]]
            first = answers[body["RequestId"]][0]
            if at - signed <= timeout:  # later answers reach no one
                assert _decision(body) == _decision(first), f"two answers: {first} and {body}"

    @invariant()
    def what_the_stack_references_exists_and_nothing_else(self) -> None:
        existing = {c.arn for c in self.world.certificates()}
        referenced = {self.current} if self.current else set()
        assert referenced | self.retained <= existing, "the stack lost a certificate it holds"
        assert existing <= referenced | self.retained, f"leaked: {existing - referenced}"

    @invariant()
    def at_most_six_hops_per_hour_of_waiting(self) -> None:
        answered = self._first_answer_times()
        for request_id, count in self.hops.items():
            waited = answered.get(request_id, self.world.clock()) - self.first_hop_at[request_id]
            assert count <= 6 * max(1, math.ceil(waited / 3600)), f"{count} hops in {waited} s"

    def _first_answer_times(self) -> dict[str, float]:
        first: dict[str, float] = {}
        for body, at in zip(self.world.sink.bodies, self.world.sink.times, strict=True):
            first.setdefault(body["RequestId"], at)
        return first


def _decision(body: dict[str, Any]) -> tuple[str, str]:
    """What CloudFormation acts on; a repeated answer may word its Reason differently."""
    return body["Status"], body["PhysicalResourceId"]


StackModel.TestCase.settings = settings.get_profile(PROFILE)
TestStackModel = StackModel.TestCase
