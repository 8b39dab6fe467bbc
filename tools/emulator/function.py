"""The function as deployed: timeout, memory and async retries from the provider template.

The emulator runs the function with the settings ``template/provider.yaml`` gives it
(900 s timeout, two retries, events dropped after an hour), in virtual seconds, so a
local run meets the same limits as a deployed one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .context import FUNCTION_ARN

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_TEMPLATE = ROOT / "template" / "provider.yaml"
HANDLER = "custom_resource.handler.handler"


@dataclass(frozen=True)
class FunctionConfig:
    arn: str = FUNCTION_ARN
    timeout_seconds: float = 900.0
    memory_mb: int = 128
    maximum_retry_attempts: int = 2
    """Lambda's default for asynchronous invocations (EventInvokeConfig may lower it)."""
    maximum_event_age_seconds: float = 6 * 3600
    """Lambda's default (6 hours): older events go to the destination unprocessed."""
    retry_delays: tuple[float, ...] = (60.0, 120.0)
    """Lambda retries a failed async event after about 1 and then 2 more minutes."""
    delivery_delay_seconds: float = 0.0
    """From acceptance (202) to the start of the invocation."""
    duplicate_delay_seconds: float = 1.0
    """How long after the first copy a duplicate delivery arrives (at-least-once)."""
    reserved_concurrency: int | None = None
    """ReservedConcurrentExecutions as the template deploys it by default (None:
    unreserved, the function shares the account's pool)."""
    source: str = "defaults"

    def with_arn(self, arn: str) -> FunctionConfig:
        return replace(self, arn=arn)


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !GetAtt, !Sub, ...) as long forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation template as JSON-ready data, short forms (``!Ref``) in long form
    (moto's own YAML reader misses nested short forms)."""
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return template


@functools.cache
def from_template(path: Path = PROVIDER_TEMPLATE) -> FunctionConfig:
    """The provider function's settings (the function whose Handler is ours)."""
    template = load_template(path)
    resources: dict[str, Any] = template.get("Resources", {})
    name, function = next(
        (n, r)
        for n, r in resources.items()
        if r.get("Type") == "AWS::Lambda::Function"
        and r.get("Properties", {}).get("Handler") == HANDLER
    )
    props = function["Properties"]
    invoke: dict[str, Any] = next(
        (
            r.get("Properties", {})
            for r in resources.values()
            if r.get("Type") == "AWS::Lambda::EventInvokeConfig"
            and r.get("Properties", {}).get("FunctionName") == {"Ref": name}
        ),
        {},
    )
    defaults = FunctionConfig()
    reserved = _resolve(props.get("ReservedConcurrentExecutions"), template)
    return FunctionConfig(
        timeout_seconds=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
        maximum_retry_attempts=int(
            invoke.get("MaximumRetryAttempts", defaults.maximum_retry_attempts)
        ),
        maximum_event_age_seconds=float(
            invoke.get("MaximumEventAgeInSeconds", defaults.maximum_event_age_seconds)
        ),
        reserved_concurrency=None if reserved is None else int(reserved),
        source=path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path),
    )


def _resolve(value: Any, template: dict[str, Any]) -> Any:
    """A property's value with every parameter at its default: the intrinsics a provider
    template uses for it (Ref, Fn::If, Fn::Not, Fn::Equals); None for AWS::NoValue."""
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        if value["Ref"] == "AWS::NoValue":
            return None
        return template.get("Parameters", {}).get(value["Ref"], {}).get("Default")
    if "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        chosen = _resolve(template.get("Conditions", {}).get(condition), template)
        return _resolve(yes if chosen else no, template)
    if "Fn::Not" in value:
        return not _resolve(value["Fn::Not"][0], template)
    if "Fn::Equals" in value:
        left, right = (_resolve(v, template) for v in value["Fn::Equals"])
        return left == right
    raise ValueError(f"cannot resolve {value!r} from the template's defaults")
