"""Model-based test: CloudFormation's sequences, searched by Hypothesis.

A small model of one stack holding one ``Custom::WaitForCertificate`` drives the real
handler through the test harness (moto, the virtual clock, the emulator's Lambda). Its
rules are what CloudFormation and Lambda do: Create, Update (in place and by replacement)
and Delete; a FAILED Create followed by its rollback Delete; a FAILED Update followed by
the rollback Update of the same resource; a successful replacement followed by cleanup, or
by a rollback (another resource failed) and cleanup of the replacement;
UpdateReplacePolicy Retain; validation that issues, fails or never finishes. Every
request is delivered the ways Lambda may deliver it:

- late (minutes, or the last seconds before its ServiceTimeout), or twice;
- crashing once at an AWS call, or Lambda giving up on one of its hops: that hop crashes
  or times out on all three deliveries, or its response (or 12-hour mode signal) is never
  accepted, 3 deliveries x the sender's PUT attempts; the on-failure destination then
  runs the last-resort responder (``custom_resource/responder.py``);
- with reads the decisions use throttled (DescribeStacks, DescribeStackResource,
  ListTagsForCertificate, DescribeCertificate fail with ThrottlingException);
- across a provider upgrade: a later hop arrives with a relay state of another version.

Creates and Updates may use the 12-hour mode (a WaitConditionHandle, with or without a
WaitTimeout): the WaitCondition completes on the handle's first signal, and a FAILURE (or
no signal) rolls the stack back. Certificates the provider did not request (another
team's, seeded directly in moto with their validation records) sit in the account, and
requests from another stack, or another resource of this one, name them as their
PhysicalResourceId in Updates and Deletes.

After every step (each rule runs its stack operation until the stack settles) these hold:
- every request has exactly one final answer (a request delivered twice runs two chains,
  which may differ in Status but must name the same resource)
  and the responses keep CloudFormation's protocol;
- every answer arrives within ServiceTimeout of the request's signing time, unless Lambda
  gave up on the request: its retries take minutes, and when the last hop fails the
  responder may only answer after CloudFormation has timed the resource out;
- a WaitCondition that a successful request opened hears its first signal within its
  WaitTimeout of the request's answer;
- the certificate the stack references exists, and so does every retained one;
- nothing the provider created outlives the stack's need for it: no certificate the
  provider requested exists unless the stack references it or retained it
  (UpdateReplacePolicy Retain, the one Retain for certificates), and, when
  RemoveValidationRecords is true, no validation record remains that no existing
  certificate needs. Records are shared by name (ACM gives every certificate for a name
  the same record), so a record a remaining certificate needs stays, the retained
  certificates' and other teams' included; and when RemoveValidationRecords is false
  records are kept by design, so none is counted (the model fixes the property for the
  whole run);
- a certificate the provider did not request is never deleted or changed: it still
  exists with the same tags, options and status, and its validation records remain;
- no more than 6 hops per started hour of waiting.

CI runs a fixed, derandomized set of examples; ``make test-deep`` searches far more.
"""

from __future__ import annotations

import copy
import math
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws
from moto import settings as moto_settings
from moto.acm.models import CertBundle

from custom_resource.certificates.ownership import REPLACES_TAG, Owner
from custom_resource.relay_state import RELAY_KEY, RELAY_VERSION
from custom_resource.responder import Responder
from custom_resource.response import ResponseNotDeliveredError
from custom_resource.settings import Settings
from tests.conftest import (
    STACK_ID,
    WAIT_HANDLE,
    FakeContext,
    World,
    build_world,
    error_answer,
    make_event,
    signed_url,
)
from tests.lifecycle_helpers import (
    DELIVERIES,
    Crash,
    delete_event,
    destination_record,
    update_event,
)
from tools.emulator import FunctionTimeout, current_invocation

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
MODEL_SETTINGS = Settings(poll_start_seconds=60, poll_min_seconds=60, poll_max_seconds=120)
"""The model checks sequences, answers and hop counts, not the poll cadence (test_relay.py
and the bench do): polling every minute, and every two in a 12-hour mode wait, an hour of
waiting takes a twelfth of the steps the 5 s floor would, so a search covers as many
sequences in a fraction of the time."""

DOMAINS = ("example.com", "example.org", "www.example.com")
OTHER_STACK_ID = STACK_ID.replace("stack/demo/", "stack/other-team/")
FOREIGN = (
    ("api.example.com", "DISABLED"),
    ("team.example.org", "ENABLED"),
    ("legacy.example.com", "ENABLED"),
)
"""Another team's certificates (name, transparency logging): the last one carries a
``Replaces`` tag naming the first, as a provider replacement would."""
CRASH_POINTS = (
    "acm.RequestCertificate",
    "acm.DescribeCertificate",
    "acm.ListTagsForCertificate",
    "acm.AddTagsToCertificate",
    "acm.DeleteCertificate",
    "route53.ChangeResourceRecordSets",
    "lambda.Invoke",
)
READS = (
    "cloudformation.DescribeStacks",
    "cloudformation.DescribeStackResource",
    "acm.ListTagsForCertificate",
    "acm.DescribeCertificate",
)
"""The reads the provider's decisions use: each may be throttled. A throttled call fails
with ThrottlingException as botocore raises it once its own retries are spent."""
END = "end"
"""A hop that dies at its end: just before it hands off, answers or signals (a timeout)."""
LOG_GROUP = "/aws/lambda/wait-for-certificate-Function-Model"
MAX_WAIT = 12 * 3600
"""A WaitCondition's longest Timeout, the WaitTimeout's default."""
MAX_INVOCATIONS = 400


@dataclass(frozen=True)
class GiveUp:
    """Lambda gives up on a request: every delivery of one of its invocations fails."""

    how: str
    """``crash``: hop ``hop`` crashes at ``at`` on every delivery; ``undeliverable``: no
    response PUT is accepted; ``signal``: no WaitCondition signal is accepted."""
    hop: int = 1
    at: str = END


@dataclass(frozen=True)
class Delivery:
    """How Lambda delivers one request and what goes wrong meanwhile."""

    late_seconds: int = 0
    """Before the first hop runs; negative: that many seconds before the ServiceTimeout."""
    duplicate: bool = False
    crash: tuple[str, bool] | None = None
    """Crash the invocation once at this AWS call (before it, or just after it)."""
    throttled: frozenset[str] = frozenset()
    throttles: int = 1
    """How many calls of each throttled read fail."""
    give_up: GiveUp | None = None
    upgrade_at: int | None = None
    """The hop whose payload carries a relay state of another provider version."""
    upgrade_version: int = 1


@dataclass(frozen=True)
class Validation:
    """What ACM does with certificates requested by one request."""

    outcome: str  # "issues" | "fails" | "never"
    minutes: int


def _in_time(delivery: Delivery) -> Delivery:
    """A first hop in the last seconds before the timeout gets no retry: Lambda's retries
    come a minute later, after CloudFormation stopped listening."""
    if delivery.late_seconds >= 0:
        return delivery
    return replace(delivery, crash=None, give_up=None)


_faults: dict[str, Any] = dict(
    duplicate=st.booleans(),
    crash=st.none() | st.tuples(st.sampled_from(CRASH_POINTS), st.booleans()),
    throttled=st.frozensets(st.sampled_from(READS)),
    throttles=st.sampled_from([1, 3]),
)
safe_deliveries = st.builds(Delivery, late_seconds=st.sampled_from([0, 0, 120, 780]), **_faults)
"""For rollbacks and Deletes: Lambda giving up on them, or an upgrade in their middle,
fails them by design (the stack operation is retried)."""
give_ups = st.builds(
    GiveUp,
    how=st.sampled_from(["crash", "crash", "undeliverable", "signal"]),
    hop=st.sampled_from([1, 1, 2, 3]),
    at=st.sampled_from([END, END, "acm.DescribeCertificate", "route53.ChangeResourceRecordSets"]),
)
deliveries = st.builds(
    Delivery,
    late_seconds=st.sampled_from([0, 0, 120, 780, -1, -5, -30, -170, -200]),
    give_up=st.none() | give_ups,
    upgrade_at=st.none() | st.sampled_from([2, 3]),
    upgrade_version=st.sampled_from([1, 99]),
    **_faults,
).map(_in_time)
validations = st.builds(
    Validation,
    outcome=st.sampled_from(["issues", "issues", "fails", "never"]),
    minutes=st.sampled_from([1, 20, 50]),
)
wait_timeouts = st.none() | st.sampled_from(["", "3600", "7200", "\u00b2", "\u2460", "9" * 5000])
"""None: no WaitConditionHandle; "": a handle without WaitTimeout (12 hours). The last three
are no whole number of seconds Python reads: the request must fail, its rollback succeed."""


@dataclass
class Faults:
    """What goes wrong while one request is delivered (its invocations only)."""

    request_id: str
    delivery: Delivery
    crash_once: tuple[str, bool] | None
    throttles_left: dict[str, int]

    def dies(self, hop: int, point: str) -> bool:
        give_up = self.delivery.give_up
        if give_up is None or give_up.how != "crash":
            return False
        return give_up.hop == hop and give_up.at == point

    def refuses(self, trouble: str) -> bool:
        return self.delivery.give_up is not None and self.delivery.give_up.how == trouble


@dataclass(frozen=True)
class Wait:
    """A WaitCondition a successful request opened: its handle and its timeout."""

    handle: str
    timeout: int


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
        self.remove_records = False
        self.status = "CREATE_IN_PROGRESS"
        """What DescribeStacks answers (CloudFormation's view of the stack operation)."""
        self.signed: dict[str, tuple[float, int]] = {}
        """Per RequestId: the signing time and the ServiceTimeout."""
        self.first_hop_at: dict[str, float] = {}
        self.chain_end: dict[str, float] = {}
        self.hops: dict[str, int] = {}
        """Per RequestId: the highest hop number any of its invocations ran."""
        self.given_up: set[str] = set()
        self.duplicated: set[str] = set()
        self.updates: set[str] = set()
        """Requests Lambda delivered twice: two chains, each answering on its own."""
        self.waits: dict[str, Wait] = {}
        """Per RequestId: the WaitCondition it opened (12-hour mode)."""
        self.handles = 0
        self.faults: Faults | None = None
        self.foreign_records: set[str] = set()
        """The validation records another team wrote (the provider did not create them)."""
        self._install_faults()
        self.foreign = self._seed_foreign()

    def teardown(self) -> None:
        self._patch.undo()
        self._mock.stop()

    def zone(self, domain: str) -> str:
        return self.zones[".".join(domain.split(".")[-2:])]

    # Lambda's and AWS's faults, active only inside the invocations of one request

    def _install_faults(self) -> None:
        world = self.world
        base: dict[str, Callable[[dict[str, Any]], Any] | None] = {
            op: world.hooks.get(op) for op in (*CRASH_POINTS, *READS)
        }
        base["cloudformation.DescribeStacks"] = self._describe_stacks
        base["route53.ChangeResourceRecordSets"] = self._delete_of_a_missing_record
        for op in base:
            world.hooks[op] = self._before(op, base[op])
            world.after_hooks[op] = self._after(op)
        runtime = world.runtime
        assert runtime.sender is not None and runtime.signal_sender is not None
        runtime.sender = replace(runtime.sender, put=self._put(world.sink.put, "undeliverable"))
        runtime.signal_sender = replace(
            runtime.signal_sender, put=self._put(world.signals.put, "signal")
        )

    def _active(self) -> tuple[Faults, int] | None:
        invocation = current_invocation()
        faults = self.faults
        if faults is None or invocation is None or invocation.request_id != faults.request_id:
            return None
        return faults, invocation.hop

    def _before(
        self, op: str, base: Callable[[dict[str, Any]], Any] | None
    ) -> Callable[[dict[str, Any]], Any]:
        def before(params: dict[str, Any]) -> Any:
            active = self._active()
            if active is not None:
                faults, hop = active
                if faults.crash_once == (op, False):
                    faults.crash_once = None
                    raise Crash(op)
                if faults.dies(hop, op) or (op == "lambda.Invoke" and faults.dies(hop, END)):
                    raise Crash(f"{op} in hop {hop}")
                if faults.throttles_left.get(op, 0) > 0:
                    faults.throttles_left[op] -= 1
                    return error_answer("ThrottlingException", "Rate exceeded")
            return base(params) if base else None

        return before

    def _after(self, op: str) -> Callable[[], None]:
        def after() -> None:
            active = self._active()
            if active is not None:
                faults, hop = active
                if faults.crash_once == (op, True):
                    faults.crash_once = None
                    raise Crash(f"after {op}")
                if op == "route53.ChangeResourceRecordSets" and faults.dies(hop, op):
                    raise Crash(f"after {op} in hop {hop}")

        return after

    def _put(
        self, put: Callable[[str, bytes, float], int], trouble: str
    ) -> Callable[[str, bytes, float], int]:
        def attempt(url: str, body: bytes, timeout: float) -> int:
            active = self._active()
            if active is not None:
                faults, hop = active
                if faults.dies(hop, END):
                    raise Crash(f"PUT in hop {hop}")
                if faults.refuses(trouble):
                    return 503
            return put(url, body, timeout)

        return attempt

    def _describe_stacks(self, params: dict[str, Any]) -> Any:
        stack = {"StackId": STACK_ID, "StackName": "demo", "StackStatus": self.status}
        return _Ok(), {"Stacks": [stack], "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _delete_of_a_missing_record(self, params: dict[str, Any]) -> Any:
        """Route 53 refuses to DELETE a record set that does not exist with
        InvalidChangeBatch, where moto answers InvalidInput: answer as Route 53 does."""
        root = ElementTree.fromstring(params["body"])
        zone = params["url_path"].split("/hostedzone/")[1].split("/")[0]
        present = {r["Name"] for r in self.world.records(zone)}
        for change in root.iter():
            if not change.tag.endswith("}Change"):
                continue
            fields = {element.tag.split("}")[1]: element.text for element in change.iter()}
            name = str(fields.get("Name", "")).rstrip(".") + "."
            if fields.get("Action") == "DELETE" and name not in present:
                message = (
                    f"Tried to delete resource record set [name='{name}'] but it was not found"
                )
                return error_answer("InvalidChangeBatch", f"[{message}]")
        return None

    # Another team's certificates

    def _seed_foreign(self) -> dict[str, Any]:
        """Request them directly (not through the provider) and write their records."""
        acm = self.world.acm()
        arns: list[str] = []
        for domain, logging in FOREIGN:
            tags = [{"Key": "Team", "Value": "payments"}]
            if arns and domain.startswith("legacy"):
                tags.append({"Key": REPLACES_TAG, "Value": arns[0]})
            arn = acm.request_certificate(
                DomainName=domain,
                ValidationMethod="DNS",
                Tags=tags,
                Options={"CertificateTransparencyLoggingPreference": logging, "Export": "DISABLED"},
            )["CertificateArn"]
            certificate = self.world.cert(arn)
            certificate.status = "PENDING_VALIDATION" if domain.startswith("team") else "ISSUED"
            for name, value in _validation_records(certificate).items():
                self._upsert(domain, name, value)
            arns.append(arn)
        present = self._record_names()
        self.foreign_records = present
        return {arn: self._snapshot(arn, present) for arn in arns}

    def _upsert(self, domain: str, name: str, value: str) -> None:
        record = {"Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": value}]}
        self.world.route53().change_resource_record_sets(
            HostedZoneId=self.zone(domain),
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
        )

    def _snapshot(self, arn: str, present: set[str]) -> Any:
        """What must not change: tags, options, status, and whether its records exist."""
        certificate = next((c for c in self.world.certificates() if c.arn == arn), None)
        if certificate is None:
            return None
        records = _validation_records(certificate)
        return (
            dict(certificate.tags),
            copy.deepcopy(certificate.cert_options),
            certificate.status,
            {name: name in present for name in records},
        )

    def _record_names(self) -> set[str]:
        return {r["Name"] for zone in self.zones.values() for r in self.world.records(zone)}

    # CloudFormation's requests

    def send(
        self,
        event: dict[str, Any],
        delivery: Delivery,
        validation: Validation,
        opens_wait: bool = False,
    ) -> dict[str, Any]:
        """Sign and deliver one request as Lambda would, until its chain ends; return the
        answer CloudFormation acts on (the first)."""
        world = self.world
        request_id = event["RequestId"]
        event["ResponseURL"] = signed_url(world.clock())
        props = event["ResourceProperties"]
        timeout = int(props.get("ServiceTimeout", 3600))
        self.signed[request_id] = (world.clock(), timeout)
        if event["RequestType"] == "Update":
            self.updates.add(request_id)
        if opens_wait and "WaitConditionHandle" in props:
            wait = props.get("WaitTimeout", "")
            seconds = int(wait) if wait.isdecimal() and len(wait) < 6 else MAX_WAIT
            self.waits[request_id] = Wait(props["WaitConditionHandle"], seconds)
        late = delivery.late_seconds
        world.clock.advance(late if late >= 0 else timeout + late)
        self._validate({c.arn for c in world.certificates()}, validation)
        self.first_hop_at[request_id] = world.clock()
        throttles = {op: delivery.throttles for op in delivery.throttled}
        self.faults = Faults(request_id, delivery, delivery.crash, throttles)
        first = len(world.lam.invocations)
        try:
            self._deliver(event, delivery)
        finally:
            self.faults = None
        ran = world.lam.invocations[first:]
        self.hops[request_id] = max((i.hop for i in ran), default=1)
        self.chain_end[request_id] = max((i.ended_at for i in ran), default=world.clock())
        return self.answer(event)

    def _deliver(self, event: dict[str, Any], delivery: Delivery) -> None:
        """Lambda's asynchronous delivery: a failed invocation is delivered again a minute,
        then two minutes later; after the third failure Lambda gives up and its on-failure
        destination runs the responder."""
        world = self.world
        pending: list[tuple[dict[str, Any], int]] = [(event, 0)] * (2 if delivery.duplicate else 1)
        if delivery.duplicate or delivery.crash == ("lambda.Invoke", True):
            # A hop that crashed right after handing off is retried beside its successor:
            # two chains as well.
            self.duplicated.add(event["RequestId"])
        started = len(world.lam.invocations)
        while pending:
            assert len(world.lam.invocations) - started < MAX_INVOCATIONS, "a chain never ends"
            payload, failures = pending.pop(0)
            _upgrade(payload, delivery)
            try:
                world.lam.invoke(payload)
            except (Crash, ResponseNotDeliveredError, FunctionTimeout) as exc:
                if failures + 1 < DELIVERIES:
                    world.clock.advance(60 * (failures + 1))
                    pending.insert(0, (payload, failures + 1))
                else:
                    self._last_resort(payload, exc)
            finally:
                pending.extend((handed, 0) for handed in world.lam.queue)
                world.lam.queue.clear()

    def _last_resort(self, payload: dict[str, Any], error: BaseException) -> None:
        """The on-failure destination: the responder, itself retried by Lambda."""
        self.given_up.add(payload["RequestId"])
        record = destination_record(payload, error=error)
        responder = Responder(self.world.runtime, log_group=LOG_GROUP)
        for attempt in range(DELIVERIES):
            try:
                responder(record, FakeContext(self.world.clock, 60))
                return
            except Exception:
                self.world.clock.advance(60 * (attempt + 1))

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
        answers = self.answers().get(event["RequestId"])
        assert answers, f"{event['RequestType']} {event['RequestId']} went unanswered"
        return answers[0]

    def answers(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for body in self.world.sink.bodies:
            grouped[body["RequestId"]].append(body)
        return grouped

    def completed(self, event: dict[str, Any]) -> bool:
        """Whether the WaitCondition the request opened (if any) completed: its first
        signal is SUCCESS. FAILURE, or no signal, fails it and rolls the stack back."""
        wait = self.waits.get(event["RequestId"])
        if wait is None:
            return True
        signals = self._signals_to(wait.handle)
        return bool(signals) and signals[0][0]["Status"] == "SUCCESS"

    def _signals_to(self, handle: str) -> list[tuple[dict[str, Any], float]]:
        signals = self.world.signals
        return [
            (body, at)
            for body, url, at in zip(signals.bodies, signals.urls, signals.times, strict=True)
            if url == handle
        ]

    def delete(
        self,
        physical_id: str,
        props: dict[str, Any],
        delivery: Delivery,
        stack_id: str = STACK_ID,
        logical_id: str = "Certificate",
    ) -> None:
        event = delete_event(physical_id, props)
        event["StackId"], event["LogicalResourceId"] = stack_id, logical_id
        body = self.send(event, delivery, Validation("never", 0))
        assert body["Status"] == "SUCCESS", f"DELETE_FAILED: {body['Reason']}"

    def new_handle(self) -> str:
        self.handles += 1
        return WAIT_HANDLE.replace("/Handle?", f"/Handle{self.handles}?")

    # Rules

    @initialize(remove_records=st.booleans())
    def choose_record_removal(self, remove_records: bool) -> None:
        self.remove_records = remove_records

    @precondition(lambda self: self.current is None)
    @rule(
        domain=st.sampled_from(DOMAINS),
        timeout=st.sampled_from(["1800", "3600"]),
        wait_timeout=wait_timeouts,
        delivery=deliveries,
        validation=validations,
        other_resource_fails=st.booleans(),
        rollback_delivery=safe_deliveries,
    )
    def create(
        self,
        domain: str,
        timeout: str,
        wait_timeout: str | None,
        delivery: Delivery,
        validation: Validation,
        other_resource_fails: bool,
        rollback_delivery: Delivery,
    ) -> None:
        self.status = "CREATE_IN_PROGRESS"
        props: dict[str, Any] = dict(
            DomainName=domain, HostedZoneId=self.zone(domain), ServiceTimeout=timeout
        )
        if self.remove_records:
            props["RemoveValidationRecords"] = "true"
        if wait_timeout is not None:
            props["WaitConditionHandle"] = self.new_handle()
            if wait_timeout:
                props["WaitTimeout"] = wait_timeout
        event = make_event(**props)
        body = self.send(event, delivery, validation, opens_wait=True)
        props = event["ResourceProperties"]
        if body["Status"] == "FAILED" or other_resource_fails or not self.completed(event):
            self.status = "ROLLBACK_IN_PROGRESS"
            self.delete(body["PhysicalResourceId"], props, rollback_delivery)
        else:
            self.current, self.props = body["PhysicalResourceId"], props

    @precondition(lambda self: self.current is not None)
    @rule(
        domain=st.sampled_from(DOMAINS),
        tag=st.sampled_from(["1", "2"]),
        handle=st.sampled_from(["keep", "new", "drop"]),
        delivery=deliveries,
        validation=validations,
        other_resource_fails=st.booleans(),
        retain=st.booleans(),
        rollback_delivery=safe_deliveries,
    )
    def update(
        self,
        domain: str,
        tag: str,
        handle: str,
        delivery: Delivery,
        validation: Validation,
        other_resource_fails: bool,
        retain: bool,
        rollback_delivery: Delivery,
    ) -> None:
        assert self.current is not None and self.props is not None
        old_id, old_props = self.current, self.props
        self.status = "UPDATE_IN_PROGRESS"
        tags = [{"Key": "v", "Value": tag}]
        zone = self.zone(domain)
        changes: dict[str, Any] = dict(DomainName=domain, HostedZoneId=zone, Tags=tags)
        if handle == "drop":
            changes |= dict(WaitConditionHandle=None, WaitTimeout=None)
        elif handle == "new":
            changes["WaitConditionHandle"] = self.new_handle()
        update = update_event(old_id, old_props, **changes)
        opens = handle == "new"
        body = self.send(update, delivery, validation, opens_wait=opens)
        new_props = update["ResourceProperties"]
        succeeded = body["Status"] == "SUCCESS" and self.completed(update)
        if succeeded and not other_resource_fails:
            self.current, self.props = body["PhysicalResourceId"], new_props
            if self.current != old_id:  # UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
                if retain:
                    self.retained.add(old_id)
                else:
                    self.delete(old_id, old_props, Delivery())
            return
        # UPDATE_ROLLBACK_IN_PROGRESS: a FAILED Update keeps the old id.
        held = body["PhysicalResourceId"] if body["Status"] == "SUCCESS" else old_id
        self.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        rollback = update_event(held, new_props, old_props)
        answer = self.send(rollback, rollback_delivery, Validation("issues", 1))
        assert answer["Status"] == "SUCCESS", f"UPDATE_ROLLBACK_FAILED: {answer['Reason']}"
        self.current, self.props = answer["PhysicalResourceId"], old_props
        if held != self.current:  # UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS
            self.delete(held, new_props, Delivery())

    @precondition(lambda self: self.current is not None)
    @rule(delivery=safe_deliveries)
    def delete_stack(self, delivery: Delivery) -> None:
        assert self.current is not None and self.props is not None
        self.status = "DELETE_IN_PROGRESS"
        self.delete(self.current, self.props, delivery)
        self.current, self.props = None, None

    @rule(
        which=st.integers(0, len(FOREIGN) - 1),
        domain=st.sampled_from([name for name, _ in FOREIGN] + list(DOMAINS)),
        same_stack=st.booleans(),
        is_update=st.booleans(),
        rolling_back=st.booleans(),
        logging=st.sampled_from(["ENABLED", "DISABLED"]),
        delivery=safe_deliveries,
        validation=validations,
    )
    def name_a_foreign_certificate(
        self,
        which: int,
        domain: str,
        same_stack: bool,
        is_update: bool,
        rolling_back: bool,
        logging: str,
        delivery: Delivery,
        validation: Validation,
    ) -> None:
        """Another resource (of this stack or another) names a certificate the provider
        did not request: its Update and Delete must leave that certificate alone."""
        arn = list(self.foreign)[which]
        stack_id = STACK_ID if same_stack else OTHER_STACK_ID
        old: dict[str, Any] = dict(DomainName=domain, HostedZoneId=self.zone(domain))
        if self.remove_records:
            old["RemoveValidationRecords"] = "true"
        if not is_update:
            self.delete(arn, old, delivery, stack_id, "Imposter")
            return
        new = {**old, "Tags": [{"Key": "v", "Value": "2"}]}
        new["CertificateTransparencyLoggingPreference"] = logging
        event = update_event(arn, old, new)
        event["StackId"], event["LogicalResourceId"] = stack_id, "Imposter"
        saved, self.status = (
            self.status,
            ("UPDATE_ROLLBACK_IN_PROGRESS" if rolling_back else "UPDATE_IN_PROGRESS"),
        )
        body = self.send(event, delivery, validation)
        held = body["PhysicalResourceId"] if body["Status"] == "SUCCESS" else arn
        if held != arn:  # cleanup of the old resource, then that stack is deleted
            self.delete(arn, old, Delivery(), stack_id, "Imposter")
        self.delete(held, new if held != arn else old, Delivery(), stack_id, "Imposter")
        self.status = saved

    # Invariants

    @invariant()
    def responses_keep_the_protocol(self) -> None:
        assert not self.world.sink.violations, self.world.sink.violations
        assert not self.world.lam.violations, self.world.lam.violations

    @invariant()
    def one_answer_per_request_within_its_service_timeout(self) -> None:
        answers = self.answers()
        assert set(answers) == set(self.signed), "a request went unanswered"
        for request_id, answered_at in self._first_answer_times().items():
            signed, timeout = self.signed[request_id]
            late = answered_at - signed
            assert late <= timeout or request_id in self.given_up, f"answered {late:.0f} s late"
        for body, at in zip(self.world.sink.bodies, self.world.sink.times, strict=True):
            signed, timeout = self.signed[body["RequestId"]]
            first = answers[body["RequestId"]][0]
            if at - signed > timeout:  # later answers reach no one
                continue
            if body["RequestId"] in self.duplicated:
                # Two deliveries are two chains, and what happens to one (an upgrade, a
                # give-up, a poll just before ISSUED) need not happen to the other: they
                # may differ in Status, never in the resource they name, so nothing leaks
                # whichever answer CloudFormation acts on (the first it reads).
                # A FAILED Update names no resource: CloudFormation keeps the old one (and
                # the stack must still hold what a first SUCCESS named: checked below).
                failed_update = body["RequestId"] in self.updates and "FAILED" in (
                    body["Status"],
                    first["Status"],
                )
                assert failed_update or _same_resource(body, first), (
                    f"two resources: {first} and {body}"
                )
            else:
                assert _decision(body) == _decision(first), f"two answers: {first} and {body}"

    @invariant()
    def every_wait_condition_hears_its_end_in_time(self) -> None:
        answered = self._first_answer_times()
        answers = self.answers()
        for request_id, wait in self.waits.items():
            if answers[request_id][0]["Status"] != "SUCCESS":
                continue  # the stack rolls back: no WaitCondition waits
            signals = self._signals_to(wait.handle)
            assert signals, f"the WaitCondition of {request_id} was never signalled"
            waited = signals[0][1] - answered[request_id]
            # Like the ServiceTimeout check: once Lambda gave up on a hop, its retries take
            # minutes, and the responder's FAILURE may follow the WaitCondition's own timeout.
            in_time = waited <= wait.timeout or request_id in self.given_up
            assert in_time, f"signalled {waited:.0f} s after the answer"

    @invariant()
    def what_the_stack_references_exists_and_nothing_else(self) -> None:
        existing = {c.arn for c in self.world.certificates()} - set(self.foreign)
        referenced = {self.current} if self.current else set()
        assert referenced | self.retained <= existing, "the stack lost a certificate it holds"
        assert existing <= referenced | self.retained, f"leaked: {existing - referenced}"

    @invariant()
    def no_validation_record_outlives_every_certificate_needing_it(self) -> None:
        if not self.remove_records:
            return  # records are kept by design, and shared by name
        needed = {name for c in self.world.certificates() for name in _validation_records(c)}
        left = self._record_names() - needed - self.foreign_records
        assert not left, f"validation records left behind: {sorted(left)}"

    @invariant()
    def certificates_it_did_not_request_are_untouched(self) -> None:
        present = self._record_names()
        for arn, before in self.foreign.items():
            after = self._snapshot(arn, present)
            assert after is not None, f"deleted another team's certificate {arn}"
            assert after == before, f"changed another team's certificate {arn}: {after}"

    @invariant()
    def at_most_six_hops_per_hour_of_waiting(self) -> None:
        for request_id, count in self.hops.items():
            waited = self.chain_end[request_id] - self.first_hop_at[request_id]
            assert count <= 6 * max(1, math.ceil(waited / 3600)), f"{count} hops in {waited} s"

    def _first_answer_times(self) -> dict[str, float]:
        first: dict[str, float] = {}
        for body, at in zip(self.world.sink.bodies, self.world.sink.times, strict=True):
            first.setdefault(body["RequestId"], at)
        return first


class _Ok:
    status_code = 200


def _upgrade(payload: dict[str, Any], delivery: Delivery) -> None:
    """The provider was upgraded while the request waited: this hop's relay state is in
    another version's format (version 1 had no Version field and said StartedAt)."""
    relay = payload.get(RELAY_KEY)
    if (
        delivery.upgrade_at is None
        or not isinstance(relay, dict)
        or relay.get("Version") != RELAY_VERSION
        or relay.get("Hop") != delivery.upgrade_at
    ):
        return
    if delivery.upgrade_version == 1:
        payload[RELAY_KEY] = {
            "Hop": relay["Hop"],
            "StartedAt": relay["RequestedAt"],
            "Deadline": relay["Deadline"],
            "Interval": relay["Interval"],
            "Memo": relay["Memo"],
        }
    else:
        payload[RELAY_KEY] = {**relay, "Version": delivery.upgrade_version}


def _validation_records(certificate: Any) -> dict[str, str]:
    """A certificate's DNS validation records (name: value), as ACM describes them."""
    options = certificate.describe()["Certificate"].get("DomainValidationOptions", [])
    records = [o["ResourceRecord"] for o in options if o.get("ResourceRecord")]
    return {r["Name"]: r["Value"] for r in records}


def _same_resource(body: dict[str, Any], other: dict[str, Any]) -> bool:
    """Two answers to one request name the same resource: the same id, or one of them is
    the request's create-failed marker, whose Delete finds by its tags the certificate
    the request requested (the one the other answer names)."""
    if body["PhysicalResourceId"] == other["PhysicalResourceId"]:
        return True
    marker = Owner.of(body["StackId"], body["LogicalResourceId"], body["RequestId"]).marker()
    return marker in (body["PhysicalResourceId"], other["PhysicalResourceId"])


def _decision(body: dict[str, Any]) -> tuple[str, str]:
    """What CloudFormation acts on; a repeated answer may word its Reason differently."""
    return body["Status"], body["PhysicalResourceId"]


StackModel.TestCase.settings = settings.get_profile(PROFILE)
TestStackModel = StackModel.TestCase
