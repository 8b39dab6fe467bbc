"""Execution environments of the provider function, for the emulator's Lambda.

A cold start does what Lambda does with the function's configuration (read from moto):
check the Handler, build the handler's ``Provider`` with the function's environment
variables (plus loopback ResponseURLs allowed), on the virtual clock, with a boto3
session pointed at moto's server. Nothing in ``custom_resource`` is replaced: the
provider's own settings, clients, relay, re-invocation through Lambda's Invoke API and
response sender run as they would in AWS.

Instrumentation only watches: hooks on the session's event system and a wrapper around
the real HTTP PUT turn the provider's calls into timeline events ("certificate
requested", "re-invoked itself", "SUCCESS sent").
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

from custom_resource.aws import Clients
from custom_resource.handler import Provider
from custom_resource.lifecycle import Runtime
from custom_resource.relay_state import RELAY_KEY
from custom_resource.responder import Responder
from custom_resource.response import Sender, urllib_put
from custom_resource.settings import Settings
from tools.emulator import (
    Invocation,
    LambdaContext,
    LambdaService,
    VirtualClock,
    current_invocation,
    from_template,
)
from tools.emulator.function import HANDLER

from .moto_server import Emulation, LocalSession
from .timeline import Timeline, short_arn

LOCAL_ONLY = {"WFC_ALLOW_LOOPBACK_RESPONSE_URL": "true"}
"""The demo's only change to the function's settings: answer to 127.0.0.1."""


class HopCrash(BaseException):
    """The process dies (killed, out of memory): no handler of the provider can catch it."""


class ProviderEnvironment:
    """One execution environment: the provider behind the function's Handler, warm."""

    def __init__(
        self,
        session: LocalSession,
        settings: Settings,
        clock: VirtualClock,
        timeline: Timeline,
        seed: int,
        crash: bool = False,
    ) -> None:
        self.session = session
        self.timeline = timeline
        self.crash = crash
        self._crash_after_request = False
        self._record_changes: tuple[str, list[str]] = ("UPSERT", [])
        runtime = observed_runtime(settings, clock, timeline, seed)
        runtime.clients = Clients(session, session.region_name, clock=clock)
        self._register_hooks(session.events)
        self.provider = Provider(runtime)

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> Any:
        self._crash_after_request = (
            self.crash and event.get("RequestType") == "Create" and RELAY_KEY not in event
        )
        return self.provider(event, context)

    # What the provider does, as events.

    def _note(self, kind: str, what: str, status: str | None = None) -> None:
        _note(self.timeline, kind, what, status)

    def _register_hooks(self, events: Any) -> None:
        events.register("after-call.acm.RequestCertificate", self._requested)
        events.register("after-call.acm.DescribeCertificate", self._described)
        events.register("after-call.acm.AddTagsToCertificate", self._tagged)
        events.register("after-call.acm.RemoveTagsFromCertificate", self._untagged)
        events.register("after-call.acm.DeleteCertificate", self._deleted)
        events.register(
            "before-parameter-build.route53.ChangeResourceRecordSets", self._records_planned
        )
        events.register("after-call.route53.ChangeResourceRecordSets", self._records_written)
        events.register("before-call.lambda.Invoke", self._reinvoking)
        events.register("after-call.lambda.Invoke", self._reinvoked)

    def _requested(self, parsed: dict[str, Any], **_: Any) -> None:
        if "CertificateArn" in parsed:
            arn = parsed["CertificateArn"]
            self._note("requested", f"certificate requested {short_arn(arn)}", "PENDING_VALIDATION")
        if self._crash_after_request:
            self._note("error", "the hop crashes right after its request (--fail crash)")
            raise HopCrash("Runtime exited with error: signal: killed (--fail crash)")

    def _described(self, parsed: dict[str, Any], **_: Any) -> None:
        status = parsed.get("Certificate", {}).get("Status")
        invocation = current_invocation()
        if not status or invocation is None or status == invocation.status:
            return
        if invocation.request_type == "Delete":
            return  # a Delete only describes to name the users; its status is the deletion's
        if status == "PENDING_VALIDATION":
            invocation.status = status
            return
        reason = parsed["Certificate"].get("FailureReason")
        self._note("status", f"certificate {status}" + (f" ({reason})" if reason else ""), status)

    def _tagged(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Error" not in parsed:
            self._note("tags", "tags added or changed in place")

    def _untagged(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Error" not in parsed:
            self._note("tags", "tags removed in place")

    def _deleted(self, parsed: dict[str, Any], **_: Any) -> None:
        code = parsed.get("Error", {}).get("Code")
        if code is None:
            self._note("deleted", "certificate deleted", "DELETED")
        elif code == "ResourceInUseException":
            invocation = current_invocation()
            if invocation is not None and invocation.status != "IN_USE":  # once per hop
                self._note("in-use", "certificate in use: DeleteCertificate refused", "IN_USE")
        elif code == "ResourceNotFoundException":
            self._note("deleted", "certificate already gone", "DELETED")

    def _records_planned(self, params: dict[str, Any], **_: Any) -> None:
        changes = params.get("ChangeBatch", {}).get("Changes", [])
        names = [c["ResourceRecordSet"]["Name"] for c in changes if "ResourceRecordSet" in c]
        self._record_changes = (changes[0]["Action"] if changes else "UPSERT", names)

    def _records_written(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Error" in parsed:
            return
        action, names = self._record_changes
        self._note("records", f"validation record {action}: " + ", ".join(names))

    def _reinvoking(self, **_: Any) -> None:
        invocation = current_invocation()
        if invocation is not None:
            self._note("reinvoked", f"re-invokes itself (Event) -> hop {invocation.hop + 1}")

    def _reinvoked(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Error" in parsed:
            self._note("error", f"re-invocation refused: {parsed['Error'].get('Code')}")


def _note(timeline: Timeline, kind: str, what: str, status: str | None = None) -> None:
    """An event of the invocation running now (none outside an invocation)."""
    invocation = current_invocation()
    if invocation is None:
        return
    if status is not None:
        invocation.status = status
    timeline.note(invocation, what, kind)


def observed_runtime(
    settings: Settings, clock: VirtualClock, timeline: Timeline, seed: int
) -> Runtime:
    """A function's runtime on the virtual clock whose real response PUTs are observed."""

    def put(url: str, body: bytes, timeout: float) -> int:
        http_status = urllib_put(url, body, timeout)
        response = json.loads(body)
        reason = f": {response.get('Reason')}" if response.get("Status") == "FAILED" else ""
        _note(timeline, "sent", f"{response.get('Status')} sent (HTTP {http_status}){reason}")
        return http_status

    rng = random.Random(seed)
    return Runtime(
        settings=settings,
        clock=clock,
        sleep=clock.sleep,
        rng=rng,
        sender=Sender(sleep=clock.sleep, rng=rng, put=put, clock=clock),
    )


class ProviderFunction:
    """The provider function once deployed: the emulator's Lambda, fed by moto's Invoke."""

    def __init__(
        self, clock: VirtualClock, timeline: Timeline, template: Path, crash: bool = False
    ) -> None:
        self.clock = clock
        self.timeline = timeline
        self.template = template
        self.crash = crash
        self.lam: LambdaService | None = None
        self.responder: LambdaService | None = None
        self.environments: list[ProviderEnvironment] = []
        self._emulation: Emulation | None = None

    def deploy(self, service_token: str, emulation: Emulation) -> None:
        """The function exists: run it as the template configures it (timeout, retries),
        with the versions and the alias (the ServiceToken) the stack made."""
        self._emulation = emulation
        function_arn = ":".join(service_token.split(":")[:7])
        config = from_template(self.template).with_arn(function_arn)
        self.responder = LambdaService(
            self.clock,
            self._responder_start,
            config.with_arn(f"{function_arn}-Responder"),
            observer=self._observe,
        )
        self.lam = LambdaService(
            self.clock,
            self._cold_start,
            config,
            observer=self._observe,
            destination=self.responder.submit,
        )
        versions, aliases = emulation.function_versions(function_arn)
        for _ in versions:
            self.lam.publish()
        for name, version in aliases.items():
            self.lam.set_alias(name, version)
        self.responder.start()
        self.lam.start()

    def dispatch(self, function_arn: str, event: dict[str, Any], kind: str) -> Any:
        """moto's Lambda hands every invocation here: ``Event`` is queued (202), a
        synchronous one runs at once and returns its result."""
        lam = self.lam
        base, qualifier = ":".join(function_arn.split(":")[:7]), function_arn.split(":")[7:]
        if lam is None or base != lam.config.arn:
            raise RuntimeError(f"no local function runs {function_arn}")
        if kind == "Event":
            lam.submit(event, ":".join(qualifier) or None)
            return None
        return lam.invoke(event, ":".join(qualifier) or None).result

    @property
    def invocations(self) -> list[Invocation]:
        return self.lam.invocations if self.lam else []

    def settle(self, timeout: float) -> None:
        """Wait (virtual time) until no delivery is in flight, or ``timeout``."""
        services = [s for s in (self.lam, self.responder) if s is not None]
        self.clock.wait_until(lambda: all(s.settled for s in services), timeout)

    def close(self) -> None:
        for service in (self.lam, self.responder):
            if service is not None:
                service.stop()
        for environment in self.environments:
            environment.session.close()

    def _cold_start(self) -> ProviderEnvironment:
        """What Lambda does with the function's configuration (read from moto)."""
        assert self.lam is not None and self._emulation is not None
        arn = self.lam.config.arn
        config = self._emulation.function_configuration(arn)
        if config.get("Handler") != HANDLER:
            raise RuntimeError(f"the function's Handler is {config.get('Handler')!r}, not ours")
        variables = config.get("Environment", {}).get("Variables", {})
        settings = Settings.from_environment({**variables, **LOCAL_ONLY})
        session = self._emulation.session(arn.split(":")[3])
        seed = len(self.environments) + 1
        self.environments.append(
            ProviderEnvironment(session, settings, self.clock, self.timeline, seed, self.crash)
        )
        return self.environments[-1]

    def _responder_start(self) -> Responder:
        """The last-resort responder (the template's on-failure destination): it only PUTs."""
        settings = Settings.from_environment(LOCAL_ONLY)
        runtime = observed_runtime(settings, self.clock, self.timeline, seed=0)
        return Responder(runtime, log_group="/aws/lambda/wait-for-certificate (demo)")

    def _observe(self, kind: str, invocation: Invocation | None, what: str) -> None:
        self.timeline.note(invocation, what, kind)


class ProviderLogs(logging.Handler):
    """The provider's warnings and errors as timeline events (its INFO lines stay quiet).

    Attached to the root logger, where crhelper's JSON logging expects handlers; records
    of other loggers (moto, werkzeug, botocore) are dropped.
    """

    SOURCES = ("custom_resource", "crhelper")

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(logging.WARNING)
        self.timeline = timeline

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(self.SOURCES):
            return
        message = f"provider {record.levelname.lower()}: {record.getMessage()}"
        self.timeline.note(current_invocation(), message, "log")

    def __enter__(self) -> ProviderLogs:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)
