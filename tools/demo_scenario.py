"""The demo's story: deploy, create, update twice, delete; or a Create that fails.

Each step records what it expected and what it got, and the story stops at the first
step that did not end as expected. ``demo_run`` starts and stops the components.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from custom_resource.certificate import is_certificate_arn

from .emulation import Emulation
from .lambda_runner import LambdaRunner
from .stack_driver import ROOT, StackDriver, load_template

FAILURE_MODES = {"validation": "CAA_ERROR"}
"""``--fail`` choices and the ACM FailureReason each one produces."""
IN_USE_BY = "arn:aws:cloudfront::123456789012:distribution/EDEMODISTRIBUTION"


@dataclass(frozen=True)
class DemoOptions:
    domain: str = "www.example.com"
    sans: tuple[str, ...] = ()
    new_domain: str | None = None
    """The DomainName of the replacing Update; default ``v2.<domain>``."""
    zone: str | None = None
    """The hosted zone to create; default: the domain without its first label."""
    validation_delay: float = 8.0
    budget: float = 3.0
    in_use: float = 4.0
    """How long the simulated CloudFront distribution holds the certificate at Delete."""
    fail: str | None = None
    region: str = "us-east-1"
    provider_stack: str = "wait-for-certificate"
    stack: str = "wait-for-certificate-demo"
    provider_template: Path = ROOT / "template" / "provider.yaml"
    example_template: Path = ROOT / "template" / "example.yaml"

    @property
    def replacement_domain(self) -> str:
        return self.new_domain or f"v2.{self.domain.removeprefix('*.')}"

    @property
    def hosted_zone(self) -> str:
        labels = self.domain.removeprefix("*.").split(".")
        return self.zone or ".".join(labels[1:] if len(labels) > 2 else labels)

    @property
    def step_timeout(self) -> float:
        return 20 + 2 * self.validation_delay + self.in_use

    def provider_settings(self) -> dict[str, str]:
        """WFC_* overrides that compress the provider's timing to the budget."""
        margin = max(0.4, self.budget / 3)
        poll_max = max(0.2, self.budget / 3)
        return {
            "WFC_START_JITTER_SECONDS": "0",
            "WFC_POLL_MIN_SECONDS": f"{min(0.5, poll_max):g}",
            "WFC_POLL_MAX_SECONDS": f"{poll_max:g}",
            "WFC_HANDOFF_MARGIN_SECONDS": f"{margin:g}",
            "WFC_DEADLINE_MARGIN_SECONDS": "5",
            "WFC_ALLOW_LOOPBACK_RESPONSE_URL": "true",
        }


@dataclass
class Step:
    operation: str
    expected: str
    result: str = "skipped"
    ok: bool = False
    hops: int | None = None
    elapsed: float | None = None
    certificate: str | None = None
    problems: list[str] = field(default_factory=list)
    request_id: str | None = None

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
        }


class Reporter(Protocol):
    def step_started(self, step: Step) -> None: ...

    def waiting(self, step: Step) -> None: ...

    def step_finished(self, step: Step) -> None: ...


class Scenario:
    """The steps, given running components."""

    def __init__(
        self,
        options: DemoOptions,
        emulation: Emulation,
        runner: LambdaRunner,
        driver: StackDriver,
        reporter: Reporter,
    ) -> None:
        self.options = options
        self.emulation = emulation
        self.runner = runner
        self.driver = driver
        self.reporter = reporter
        self.steps: list[Step] = []

    @contextlib.contextmanager
    def step(self, operation: str, expected: str) -> Iterator[Step]:
        step = Step(operation, expected)
        self.steps.append(step)
        self.reporter.step_started(step)
        started = time.monotonic()
        try:
            yield step
        except BaseException as exc:
            problem = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            step.problems.append(f"{type(exc).__name__}: {problem}")
            step.result = step.result if step.result != "skipped" else "error"
            raise
        else:
            self.runner.wait_idle(5.0)  # let the hop that answered return
        finally:
            step.elapsed = time.monotonic() - started
            if step.request_id:
                hops = [i.hop for i in self.runner.invocations if i.request_id == step.request_id]
                step.hops = max(hops, default=0)
            step.ok = not step.problems
            self.reporter.step_finished(step)

    def tick(self, step: Step) -> Callable[[], None]:
        return lambda: self.reporter.waiting(step)

    def run(self) -> None:
        """Run the steps in order; stop after the first that did not end as expected."""
        function_arn = self.deploy_provider()
        create = self.create_stack(function_arn) if self._ok() else None
        if create is None or not self._ok():
            return
        if self.options.fail:
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
            step.result = "CREATE_COMPLETE"
            return arn

    def create_stack(self, function_arn: str) -> dict[str, Any]:
        opts = self.options
        failing = opts.fail is not None
        expected = "ROLLBACK_IN_PROGRESS, FAILED sent" if failing else "CREATE_COMPLETE"
        with self.step("Create stack", expected) as step:
            zone_id = self.driver.hosted_zone(opts.hosted_zone)
            parameters = {
                "ProviderStackName": opts.provider_stack,
                "DomainName": opts.domain,
                "HostedZoneId": zone_id,
                "CertificateRegion": opts.region,
            }
            if opts.sans:
                template = load_template(opts.example_template)
                if "SubjectAlternativeNames" not in template.get("Parameters", {}):
                    raise RuntimeError("template/example.yaml has no SubjectAlternativeNames")
                parameters["SubjectAlternativeNames"] = ",".join(opts.sans)
            stack_id = self.driver.create_stack(opts.example_template, opts.stack, parameters)
            status = self.driver.wait_stack(stack_id, opts.step_timeout, self.tick(step))
            request = next(
                (r for r in self.emulation.patches.cfn_requests if r["StackId"] == stack_id), None
            )
            step.check(request is not None, "moto's CloudFormation sent no Create")
            if request is None:
                step.result = status
                raise RuntimeError("no Create request")
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
            step.certificate = arn or None
            step.check(is_certificate_arn(arn), f"PhysicalResourceId {arn!r} is no certificate ARN")
            if failing:
                step.result = f"{status}: {response.get('Reason', 'no response')}"
                step.check(status == "ROLLBACK_IN_PROGRESS", f"stack is {status}")
                step.check(response.get("Status") == "FAILED", "the response is not FAILED")
                reason = FAILURE_MODES[opts.fail or ""]
                step.check(reason in response.get("Reason", ""), f"Reason does not name {reason}")
            else:
                step.result = status
                step.check(status == "CREATE_COMPLETE", f"stack is {status}")
                step.check(response.get("Status") == "SUCCESS", "the response is not SUCCESS")
                output = self.driver.outputs(stack_id).get("CertificateArn")
                step.check(output == arn, f"output CertificateArn is {output!r}, not the ARN")
                self._check_certificate(step, arn, "ISSUED")
            return {**(request or {}), "PhysicalResourceId": arn}

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
            self.emulation.occupy(arn, [IN_USE_BY], opts.in_use)
            self.driver.note(
                f"certificate {arn.rsplit('/', 1)[-1][:8]} in use by a CloudFront distribution "
                f"for {opts.in_use:g} s",
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
            status = self.driver.delete_stack(create["StackId"])
            step.result += f"; {status}"
            step.check(status == "DELETE_COMPLETE", f"stack is {status}")

    def rollback(self, create: dict[str, Any]) -> None:
        arn = create["PhysicalResourceId"]
        expected = "SUCCESS, deleted; ROLLBACK_COMPLETE"
        with self.step("Rollback Delete", expected) as step:
            self._delete(step, create, arn, create["ResourceProperties"])
            if step.problems:
                return
            self.emulation.finish_rollback(create["StackId"])
            status = self.driver.stack_status(create["StackId"])
            step.result += f"; {status}"
            step.check(status == "ROLLBACK_COMPLETE", f"stack is {status}")
        with self.step("Delete stack (rolled back)", "DELETE_COMPLETE, nothing sent") as step:
            step.result = self.driver.delete_stack(create["StackId"])
            step.check(step.result == "DELETE_COMPLETE", f"stack is {step.result}")

    def delete_provider(self) -> None:
        with self.step("Delete provider stack", "DELETE_COMPLETE") as step:
            name = self.options.provider_stack
            [stack] = self.driver.cloudformation.describe_stacks(StackName=name)["Stacks"]
            step.result = self.driver.delete_stack(stack["StackId"])
            step.check(step.result == "DELETE_COMPLETE", f"stack is {step.result}")

    # Helpers.

    def _send(self, step: Step, event: dict[str, Any]) -> dict[str, Any]:
        step.request_id = event["RequestId"]
        response = self.driver.send(event, self.options.step_timeout, self.tick(step))
        if response is None:
            step.result = "no response"
            raise TimeoutError(f"no response within {self.options.step_timeout:g} s")
        return response

    def _delete(
        self, step: Step, create: dict[str, Any], arn: str, properties: dict[str, Any]
    ) -> None:
        response = self._send(step, self.driver.request("Delete", create, arn, properties))
        step.certificate = arn
        gone = arn not in {a for a, _ in self.emulation.certificates()}
        step.result = f"{response.get('Status')}, " + ("deleted" if gone else "still there")
        step.check(response.get("Status") == "SUCCESS", "the response is not SUCCESS")
        step.check(response.get("PhysicalResourceId") == arn, "Delete changed the physical id")
        step.check(gone, "the certificate is still in ACM")

    def _check_certificate(self, step: Step, arn: str, status: str) -> None:
        found = dict(self.emulation.certificates()).get(arn)
        step.check(found == status, f"certificate is {found}, not {status}")
