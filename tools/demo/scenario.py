"""The demo's story: deploy, create, update twice, delete; or a Create that fails.

Each step records what it expected and what it got, on the virtual clock, and the story
stops at the first step that did not end as expected. Then ``cleanup`` does what
CloudFormation's rollback and stack deletion would, so a failed run leaves nothing
behind either, and says so. ``run`` starts and stops the components.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from custom_resource.certificates.certificate import is_certificate_arn
from custom_resource.certificates.ownership import marker_token
from tools.emulator import VirtualClock, load_template

from .cloudformation import StackDriver
from .function import ProviderFunction
from .moto_server import Emulation
from .options import FAILURE_MODES, SERVICE_TIMEOUT, DemoOptions
from .timeline import short_arn

IN_USE_BY = "arn:aws:cloudfront::123456789012:distribution/EDEMODISTRIBUTION"
REFUSED = "Invalid properties:"
"""How the provider's FAILED reason starts when it refuses the input (docs/troubleshooting.md,
Reasons): nothing was requested, and the rollback has nothing to delete."""
SETTLE_SECONDS = 600.0
"""After an answer, how long (virtual) a step waits for the Lambda to have nothing left
in flight, so its hop count is final."""


@dataclass
class Step:
    operation: str
    expected: str
    result: str = "skipped"
    ok: bool = False
    hops: int | None = None
    elapsed: float | None = None
    """Simulated seconds."""
    certificate: str | None = None
    problems: list[str] = field(default_factory=list)
    request_id: str | None = None
    refused: str | None = None
    """The provider's reason when it refused the demo's input."""

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "expected": self.expected,
            "result": self.result,
            "ok": self.ok,
            "hops": self.hops,
            "elapsed": None if self.elapsed is None else round(self.elapsed, 2),
            "certificate": self.certificate,
            "problems": self.problems,
            "refused": self.refused,
        }


class Reporter(Protocol):
    def step_started(self, step: Step, elapsed: float) -> None: ...

    def step_finished(self, step: Step) -> None: ...


@dataclass
class _Resource:
    """The example stack's custom resource, as CloudFormation knows it."""

    stack_id: str
    create: dict[str, Any]
    """Its Create request, with the PhysicalResourceId of the answer."""
    stack_deleted: bool = False


class Scenario:
    """The steps, given running components."""

    def __init__(
        self,
        options: DemoOptions,
        clock: VirtualClock,
        emulation: Emulation,
        function: ProviderFunction,
        driver: StackDriver,
        reporter: Reporter,
    ) -> None:
        self.options = options
        self.clock = clock
        self.emulation = emulation
        self.function = function
        self.driver = driver
        self.reporter = reporter
        self.steps: list[Step] = []
        self.resource: _Resource | None = None

    @property
    def refused(self) -> str | None:
        return next((s.refused for s in self.steps if s.refused), None)

    @contextlib.contextmanager
    def step(self, operation: str, expected: str) -> Iterator[Step]:
        step = Step(operation, expected)
        self.steps.append(step)
        started = self.clock.elapsed
        self.reporter.step_started(step, started)
        try:
            yield step
        except BaseException as exc:
            problem = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            step.problems.append(f"{type(exc).__name__}: {problem}")
            step.result = step.result if step.result != "skipped" else "error"
            raise
        else:
            self.function.settle(SETTLE_SECONDS)
        finally:
            step.elapsed = self.clock.elapsed - started
            if step.request_id:
                hops = [i.hop for i in self.function.invocations if i.request_id == step.request_id]
                step.hops = max(hops, default=0)
            step.ok = not step.problems
            self.reporter.step_finished(step)

    def run(self) -> None:
        """Run the steps in order; stop after the first that did not end as expected."""
        function_arn = self.deploy_provider()
        create = self.create_stack(function_arn) if self._ok() else None
        if create is None or not self._ok():
            return
        if self.options.fail or self.refused:
            self.rollback(create)
            return
        arn = create["PhysicalResourceId"]
        tagged = self.update_tags(create, arn, create["ResourceProperties"])
        new_arn = self.update_domain(create, arn, tagged) if self._ok() else None
        if new_arn and self._ok():
            self.cleanup_delete(create, arn, tagged)
        if new_arn and self._ok():
            self.delete_stack(create, new_arn)

    def _ok(self) -> bool:
        return all(s.ok for s in self.steps)

    # The steps.

    def deploy_provider(self) -> str:
        with self.step("Deploy provider stack", "CREATE_COMPLETE, ServiceToken exported") as step:
            arn = self.driver.deploy_provider(
                self.options.provider_template, self.options.provider_stack
            )
            self.function.deploy(arn, self.emulation)
            step.result = "CREATE_COMPLETE"
            return arn

    def create_stack(self, function_arn: str) -> dict[str, Any] | None:
        opts = self.options
        failing = opts.fail is not None
        expected = "ROLLBACK_IN_PROGRESS, FAILED sent" if failing else "CREATE_COMPLETE"
        with self.step("Create stack", expected) as step:
            stack_id = self.driver.create_stack(
                opts.example_template, opts.stack, self._parameters()
            )
            status = self.driver.wait_stack(stack_id, SERVICE_TIMEOUT)
            request = next(
                (r for r in self.emulation.patches.cfn_requests if r["StackId"] == stack_id), None
            )
            step.result = status
            if request is None:
                raise RuntimeError("moto's CloudFormation sent no Create")
            step.request_id = request["RequestId"]
            step.check(request["ServiceToken"] == function_arn, "not sent to the provider")
            responses = [
                r
                for r in self.emulation.patches.cfn_responses
                if r.get("RequestId") == request["RequestId"]
            ]
            step.check(len(responses) == 1, f"{len(responses)} responses instead of exactly 1")
            response = responses[0] if responses else {}
            arn = response.get("PhysicalResourceId", "")
            self.resource = _Resource(stack_id, {**request, "PhysicalResourceId": arn})
            step.certificate = arn or None
            reason = str(response.get("Reason", "no response"))
            if response.get("Status") == "FAILED" and reason.startswith(REFUSED):
                step.refused = reason
                step.result = f"{status}: the provider refused the input"
                step.check(status == "ROLLBACK_IN_PROGRESS", f"stack is {status}")
                return self.resource.create
            if opts.crash:
                # No hop lived to name the certificate: the marker leads to its tags.
                marker = marker_token(arn) is not None
                step.check(marker, f"PhysicalResourceId {arn!r} is no create-failed marker")
            else:
                ok = is_certificate_arn(arn)
                step.check(ok, f"PhysicalResourceId {arn!r} is no certificate ARN")
            if failing:
                step.result = f"{status}: {reason}"
                step.check(status == "ROLLBACK_IN_PROGRESS", f"stack is {status}")
                step.check(response.get("Status") == "FAILED", "the response is not FAILED")
                code = FAILURE_MODES[opts.fail or ""]
                step.check(code in reason, f"Reason does not name {code}")
            else:
                step.check(status == "CREATE_COMPLETE", f"stack is {status}")
                step.check(
                    response.get("Status") == "SUCCESS", f"the response is not SUCCESS: {reason}"
                )
                output = self.driver.outputs(stack_id).get("CertificateArn")
                step.check(output == arn, f"output CertificateArn is {output!r}, not the ARN")
                self._check_certificate(step, arn, "ISSUED")
            return self.resource.create

    def _parameters(self) -> dict[str, str]:
        opts = self.options
        parameters = {
            "ProviderStackName": opts.provider_stack,
            "DomainName": opts.domain,
            "HostedZoneId": self.driver.hosted_zone(opts.hosted_zone),
            "CertificateRegion": opts.region,
        }
        if opts.sans:
            template = load_template(opts.example_template)
            if "SubjectAlternativeNames" not in template.get("Parameters", {}):
                raise RuntimeError("template/example.yaml has no SubjectAlternativeNames")
            parameters["SubjectAlternativeNames"] = ",".join(opts.sans)
        return parameters

    def update_tags(self, create: dict[str, Any], arn: str, old: dict[str, Any]) -> dict[str, Any]:
        new = {**old, "Tags": [*old.get("Tags", []), {"Key": "Revision", "Value": "2"}]}
        with self.step("Update: tag change", "SUCCESS, in place (same ARN)") as step:
            response = self._send(step, self.driver.request("Update", create, arn, new, old))
            got = response.get("PhysicalResourceId")
            step.certificate = got
            step.result = f"{response.get('Status')}, " + ("same ARN" if got == arn else "new ARN")
            step.check(response.get("Status") == "SUCCESS", "the response is not SUCCESS")
            step.check(got == arn, "the ARN changed")
            step.check(self.driver.tags(arn).get("Revision") == "2", "tag Revision=2 missing")
        return new

    def update_domain(self, create: dict[str, Any], arn: str, old: dict[str, Any]) -> str:
        domain = self.options.replacement_domain
        new = {**old, "DomainName": domain}
        with self.step(f"Update: domain -> {domain}", "SUCCESS, replacement (new ARN)") as step:
            response = self._send(step, self.driver.request("Update", create, arn, new, old))
            got = str(response.get("PhysicalResourceId", ""))
            step.certificate = got
            step.result = f"{response.get('Status')}, " + ("same ARN" if got == arn else "new ARN")
            step.check(response.get("Status") == "SUCCESS", "the response is not SUCCESS")
            step.check(got != arn and is_certificate_arn(got), "no new certificate ARN")
            self._check_certificate(step, got, "ISSUED")
        return got

    def cleanup_delete(self, create: dict[str, Any], arn: str, properties: dict[str, Any]) -> None:
        with self.step("Cleanup Delete (old cert)", "SUCCESS, old certificate deleted") as step:
            self._delete(step, create, arn, properties)

    def delete_stack(self, create: dict[str, Any], arn: str) -> None:
        opts = self.options
        expected = "SUCCESS after InUseBy, deleted; DELETE_COMPLETE"
        with self.step("Delete stack", expected) as step:
            self.emulation.occupy(arn, [IN_USE_BY], opts.in_use_minutes * 60)
            self.driver.note(
                f"certificate {short_arn(arn)} in use by a CloudFront distribution "
                f"for {opts.in_use_minutes:g} min",
                "IN_USE",
                "Delete",
            )
            properties = {**create["ResourceProperties"], "DomainName": opts.replacement_domain}
            self._delete(step, create, arn, properties)
            refusals = [
                e
                for e in self.driver.timeline.events
                if e.kind == "in-use" and e.request_type == "Delete"
            ]
            step.check(bool(refusals), "DeleteCertificate was never refused (InUseBy)")
            step.result += f"; {self._delete_stack()}"
            step.check(step.result.endswith("DELETE_COMPLETE"), f"stack is {step.result}")

    def rollback(self, create: dict[str, Any]) -> None:
        arn = create["PhysicalResourceId"]
        left = bool(self.emulation.certificates())
        expected = "SUCCESS, " + ("deleted" if left else "nothing to delete")
        with self.step("Rollback Delete", f"{expected}; ROLLBACK_COMPLETE") as step:
            self._delete(step, create, arn, create["ResourceProperties"])
            if step.problems:
                return
            self.emulation.finish_rollback(create["StackId"])
            status = self.driver.stack_status(create["StackId"])
            step.result += f"; {status}"
            step.check(status == "ROLLBACK_COMPLETE", f"stack is {status}")
        with self.step("Delete stack (rolled back)", "DELETE_COMPLETE, nothing sent") as step:
            step.result = self._delete_stack()
            step.check(step.result == "DELETE_COMPLETE", f"stack is {step.result}")

    def cleanup(self) -> None:
        """After a step that did not end as expected, do what CloudFormation would (delete
        the resource's certificates through the provider, then the stack) and say so."""
        leftover = [arn for arn, _ in self.emulation.certificates()]
        resource = self.resource
        stack_left = resource is not None and not resource.stack_deleted
        if self._ok() or not (leftover or stack_left):
            return
        with self.step("Cleanup after the failure", "every certificate and stack deleted") as step:
            done = []
            for arn in leftover:
                if resource is None:
                    step.problems.append(f"{short_arn(arn)}: no request to delete it with")
                    continue
                props = resource.create["ResourceProperties"]
                self._delete(step, resource.create, arn, props)
                done.append(f"Delete {short_arn(arn)}: {step.result}")
            if stack_left:
                done.append(f"stack {self._delete_stack()}")
            step.result = "; ".join(done)

    def delete_provider(self) -> None:
        with self.step("Delete provider stack", "DELETE_COMPLETE") as step:
            name = self.options.provider_stack
            [stack] = self.driver.cloudformation.describe_stacks(StackName=name)["Stacks"]
            step.result = self.driver.delete_stack(stack["StackId"])
            step.check(step.result == "DELETE_COMPLETE", f"stack is {step.result}")

    # Helpers.

    def _send(self, step: Step, event: dict[str, Any]) -> dict[str, Any]:
        step.request_id = event["RequestId"]
        response = self.driver.send(event, SERVICE_TIMEOUT)
        if response is None:
            step.result = "no response"
            raise TimeoutError(f"no response within the ServiceTimeout ({SERVICE_TIMEOUT:g} s)")
        return response

    def _delete(
        self, step: Step, create: dict[str, Any], arn: str, properties: dict[str, Any]
    ) -> None:
        before = {a for a, _ in self.emulation.certificates()}
        response = self._send(step, self.driver.request("Delete", create, arn, properties))
        step.certificate = arn
        after = {a for a, _ in self.emulation.certificates()}
        # A create-failed marker names no certificate: its Delete finds one by its tags.
        gone = arn not in after if is_certificate_arn(arn) else not after
        what = "deleted" if gone else "still there"
        step.result = f"{response.get('Status')}, " + (
            what if is_certificate_arn(arn) or before else "nothing to delete"
        )
        step.check(response.get("Status") == "SUCCESS", "the response is not SUCCESS")
        step.check(response.get("PhysicalResourceId") == arn, "Delete changed the physical id")
        step.check(gone, "the certificate is still in ACM")

    def _delete_stack(self) -> str:
        assert self.resource is not None
        status = self.driver.delete_stack(self.resource.stack_id)
        self.resource.stack_deleted = status == "DELETE_COMPLETE"
        return status

    def _check_certificate(self, step: Step, arn: str, status: str) -> None:
        found = dict(self.emulation.certificates()).get(arn)
        step.check(found == status, f"certificate is {found}, not {status}")
