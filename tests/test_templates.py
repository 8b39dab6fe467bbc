"""The CloudFormation templates: structure, least-privilege IAM, and the example's properties.

Templates are read with cfn-lint's decoder (short-form tags such as !Sub become their long
form) and the intrinsic functions they use are evaluated by a small resolver below, once
with the parameter defaults and once with every optional parameter set.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from cfnlint.decode import cfn_yaml

from custom_resource.background import hop_cap
from custom_resource.certificates.ownership import REQUEST_TAG, STACK_TAG, TAG_PREFIX
from custom_resource.certificates.properties import parse_properties
from custom_resource.checks import MAX_WAIT_TIMEOUT
from custom_resource.lifecycle import SEND_BUDGET_SECONDS
from custom_resource.responder import LOG_GROUP_VARIABLE
from custom_resource.settings import Settings
from custom_resource.waiters.waiter_properties import RESOURCE_TYPE, parse_wait_for
from release import build_zip
from tests.conftest import WAIT_HANDLE

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "template"
PROVIDER = TEMPLATES / "provider.yaml"
EXAMPLE = TEMPLATES / "example.yaml"

PSEUDO = {
    "AWS::Partition": "aws-cn",
    "AWS::AccountId": "123456789012",
    "AWS::Region": "cn-north-1",
    "AWS::StackName": "wfc",
    "AWS::URLSuffix": "amazonaws.com.cn",
}
"""A partition other than ``aws``, so a hard-coded ``arn:aws:`` cannot pass by accident."""

UNSCOPABLE = frozenset({"acm:RequestCertificate", "acm:ListCertificates"})
"""Actions without resource-level permissions: the only ones allowed on Resource "*"."""

SERVICES = {
    "acm": "acm",
    "route53": "route53",
    "sts": "sts",
    "lambda": "lambda",
    "cloudformation": "cloudformation",
}
"""boto3 client name -> IAM service prefix of every AWS API the code may call."""

ACTION_FOR_OPERATION = {"lambda:Invoke": "lambda:InvokeFunction"}
"""Operations whose IAM action is not named like the operation."""

NO_VALUE = object()


def load(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


class Resolver:
    """Evaluates the intrinsic functions the templates use, for given parameter values.

    Resources stay symbolic: ``Ref`` to a resource and ``Fn::GetAtt`` are returned as is,
    so assertions can say "this is the function's own ARN".
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        imports: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.imports = dict(imports or {})
        self.values: dict[str, Any] = dict(PSEUDO)
        for name, spec in template.get("Parameters", {}).items():
            raw = (parameters or {}).get(name, spec.get("Default"))
            if raw is None:
                raise AssertionError(f"parameter {name} has no default and no test value")
            raw = str(raw)
            self.values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw

    def condition(self, name: str) -> bool:
        return bool(self(self.template["Conditions"][name]))

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return NO_VALUE
                return self.values.get(arg, node)
            if key == "Fn::GetAtt":
                return node
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                return arg[0].join(self(arg[1]))
            if key == "Fn::Split":
                return self(arg[1]).split(arg[0])
            if key == "Fn::Equals":
                return self(arg[0]) == self(arg[1])
            if key == "Fn::Not":
                return not self(arg[0])
            if key == "Fn::If":
                return self(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::FindInMap":
                name, first, second = (self(part) for part in arg)
                return self.template["Mappings"][name][first][second]
            if key == "Fn::ImportValue":
                return self.imports[self(arg)]
            if key.startswith("Fn::"):
                raise AssertionError(f"the test resolver does not know {key}")
        return {k: v for k, v in ((k, self(v)) for k, v in node.items()) if v is not NO_VALUE}

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self(arg[1]))

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if name in self.values:
                return str(self.values[name])
            if name.split(".")[0] in self.template.get("Resources", {}):
                return match.group(0)  # a resource stays symbolic, as in Ref and Fn::GetAtt
            raise AssertionError(f"${{{name}}} in Fn::Sub is not a parameter or pseudo parameter")

        return re.sub(r"\$\{([\w:.]+)\}", value, text)


def listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources(template: Mapping[str, Any], resolve: Resolver) -> dict[str, Any]:
    """The resources created with these parameter values (their Condition holds), resolved."""
    return {
        name: resolve(resource)
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or resolve.condition(resource["Condition"])
    }


ROLES = ("Role", "ResponderRole")
"""The provider function's role and the last-resort responder's: no other role exists,
except the role of Custom::WaitFor when the operator grants it policies."""
WAIT_FOR_ROLE = "WaitForRole"


def statements(
    template: Mapping[str, Any], resolve: Resolver, role: str = "Role"
) -> Iterator[dict[str, Any]]:
    """Every statement of every policy that ends up on ``role``."""
    found = resources(template, resolve)
    roles = {n for n, r in found.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles - {WAIT_FOR_ROLE} == set(ROLES)
    for policy in found[role]["Properties"].get("Policies", []):
        yield from listify(policy["PolicyDocument"]["Statement"])
    for managed in found[role]["Properties"].get("ManagedPolicyArns", []):
        assert set(managed) == {"Ref"}, "only the template's own managed policies"
        policy = found[managed["Ref"]]
        assert policy["Type"] == "AWS::IAM::ManagedPolicy"
        yield from listify(policy["Properties"]["PolicyDocument"]["Statement"])
    for resource in found.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy":
            attached_to = [props["RoleName"]]
        elif resource["Type"] == "AWS::IAM::Policy":
            attached_to = props.get("Roles", [])
        else:
            continue
        assert all(r in [{"Ref": name} for name in ROLES] for r in attached_to), attached_to
        if {"Ref": role} in attached_to:
            yield from listify(props["PolicyDocument"]["Statement"])


def allowed(
    template: Mapping[str, Any], resolve: Resolver, role: str = "Role"
) -> dict[str, list[Any]]:
    """IAM action -> every Resource entry granting it to ``role``."""
    grants: dict[str, list[Any]] = {}
    for statement in statements(template, resolve, role):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in listify(statement["Action"]):
            grants.setdefault(action, []).extend(listify(statement["Resource"]))
    return grants


def called_actions(modules: str = "*.py") -> set[str]:
    """The IAM action of every AWS API the provider code calls, found by scanning it."""
    source = "\n".join(p.read_text() for p in (ROOT / "custom_resource").rglob(modules))
    methods = set(re.findall(r"\.([a-z_0-9]+)\(", source))
    methods |= set(re.findall(r"\.get_(?:paginator|waiter)\(\s*[\"']([a-z_0-9]+)[\"']", source))
    session = botocore.session.get_session()
    actions = set()
    for client, prefix in SERVICES.items():
        for operation in session.get_service_model(client).operation_names:
            if xform_name(operation) in methods:
                action = f"{prefix}:{operation}"
                actions.add(ACTION_FOR_OPERATION.get(action, action))
    return actions


DEFAULTS: dict[str, str] = {}
KMS_KEY = "arn:aws-cn:kms:cn-north-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
TOPIC = "arn:aws-cn:sns:cn-north-1:123456789012:operators"
EVERYTHING_SET = {
    "HostedZoneArns": ",".join(
        f"arn:aws-cn:route53:::hostedzone/{zone}" for zone in ("Z1AAAA", "Z2BBB")
    ),
    "Route53RoleArns": "arn:aws-cn:iam::210987654321:role/dns,arn:aws-cn:iam::210987654321:role/x",
    "WaitForRoleArns": "arn:aws-cn:iam::210987654321:role/waiter",
    "WaitForPolicyArns": "arn:aws-cn:iam::aws:policy/ReadOnlyAccess",
    "LogRetentionInDays": "7",
    "LogKmsKeyArn": KMS_KEY,
    "ReservedConcurrency": "20",
    "AlarmEnabled": "true",
    "AlarmTopicArn": TOPIC,
}


@pytest.fixture(scope="module")
def provider() -> dict[str, Any]:
    return load(PROVIDER)


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return load(EXAMPLE)


def test_every_template_is_parsed(provider: dict[str, Any], example: dict[str, Any]) -> None:
    names = sorted(p.name for p in TEMPLATES.glob("*.yaml"))
    assert names == ["example-12h.yaml", "example-wait-for.yaml", "example.yaml", "provider.yaml"]
    for template in (provider, example):
        assert template["AWSTemplateFormatVersion"] == "2010-09-09"
        assert template["Resources"]


def test_no_partition_is_hard_coded() -> None:
    for path in TEMPLATES.glob("*.yaml"):
        assert not re.search(r"arn:aws[-:]", path.read_text()), path.name


def test_the_function(provider: dict[str, Any]) -> None:
    function = provider["Resources"]["Function"]
    props = function["Properties"]
    assert function["Type"] == "AWS::Lambda::Function"
    runtime = re.fullmatch(r"python3\.(\d+)", props["Runtime"])
    assert runtime and int(runtime.group(1)) >= 12
    assert props["Timeout"] == 900
    assert props["MemorySize"] <= 256
    assert props["Role"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "LogGroup"}
    module, _, name = props["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    # `aws cloudformation package` resolves Code relative to the template: the built zip.
    assert (PROVIDER.parent / props["Code"]).resolve() == build_zip.DEFAULT_OUTPUT


def test_recursive_loop_detection_gives_way_to_the_codes_own_hop_cap(
    provider: dict[str, Any],
) -> None:
    props = provider["Resources"]["Function"]["Properties"]
    assert props["RecursiveLoop"] == "Allow", "12-hour mode needs ~52 hops, Lambda stops ~16"
    settings = Settings()
    usable = props["Timeout"] - settings.handoff_margin_seconds
    assert math.ceil(3600 / usable) <= 5, "a 1-hour wait stays far below 16 hops"
    assert hop_cap(3600, props["Timeout"], settings) <= 7
    assert hop_cap(MAX_WAIT_TIMEOUT, props["Timeout"], settings) <= 60


def async_configs(template: Mapping[str, Any], function: str) -> dict[str, dict[str, Any]]:
    """The function's EventInvokeConfigs, by qualifier (a literal, or its JSON)."""
    configs: dict[str, dict[str, Any]] = {}
    for resource in template["Resources"].values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and props["FunctionName"] == {
            "Ref": function
        }:
            qualifier = props["Qualifier"]
            configs[qualifier if isinstance(qualifier, str) else json.dumps(qualifier)] = props
    return configs


def test_every_qualifier_the_provider_is_invoked_by_has_the_same_async_config(
    provider: dict[str, Any],
) -> None:
    """CloudFormation invokes the alias, hops invoke their version, someone may invoke the
    bare function ($LATEST): Lambda applies the configuration of the qualifier invoked."""
    configs = async_configs(provider, "Function")
    alias = provider["Resources"]["Alias"]["Properties"]["Name"]
    version = json.dumps({"Fn::GetAtt": ["FunctionVersion", "Version"]})
    assert set(configs) == {"$LATEST", alias, version}
    bodies = [{k: v for k, v in c.items() if k != "Qualifier"} for c in configs.values()]
    assert all(body == bodies[0] for body in bodies)
    [alias_config] = [
        r for r in provider["Resources"].values() if r["Properties"].get("Qualifier") == alias
    ]
    assert alias_config["DependsOn"] == "Alias", "the alias must exist before its config"


def test_failed_hops_are_retried(provider: dict[str, Any]) -> None:
    for config in async_configs(provider, "Function").values():
        assert config["MaximumRetryAttempts"] == 2
        assert 600 <= config["MaximumEventAgeInSeconds"] <= 3600


def test_events_lambda_gives_up_on_go_to_the_responder(provider: dict[str, Any]) -> None:
    responder = {"Fn::GetAtt": ["Responder", "Arn"]}
    for config in async_configs(provider, "Function").values():
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": responder}}
    # Lambda invokes the destination with the function's role.
    assert responder in allowed(provider, Resolver(provider))["lambda:InvokeFunction"]


def test_the_responder_is_retried_but_forwards_nowhere(provider: dict[str, Any]) -> None:
    [config] = async_configs(provider, "Responder").values()
    assert config["MaximumRetryAttempts"] == 2
    assert "DestinationConfig" not in config


def test_the_responder(provider: dict[str, Any]) -> None:
    function = provider["Resources"]["Function"]["Properties"]
    props = provider["Resources"]["Responder"]["Properties"]
    assert props["Handler"] == "custom_resource.responder.handler"
    module, _, name = props["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    for same in ("Code", "Runtime", "Architectures"):
        assert props[same] == function[same], same
    assert props["Role"] == {"Fn::GetAtt": ["ResponderRole", "Arn"]}
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "ResponderLogGroup"}
    # Its one bounded PUT fits, with room for a cold start.
    assert SEND_BUDGET_SECONDS + 10 <= props["Timeout"] <= 120
    variables = props["Environment"]["Variables"]
    assert variables == {
        LOG_GROUP_VARIABLE: {"Ref": "LogGroup"},
        "WFC_LOG_LEVEL": {"Ref": "LogLevel"},
    }


@pytest.mark.parametrize("parameters", [DEFAULTS, EVERYTHING_SET], ids=["defaults", "all-set"])
def test_the_responder_may_clean_up_as_the_function_does_but_invoke_nothing(
    provider: dict[str, Any], parameters: dict[str, str]
) -> None:
    """It deletes what an Update that Lambda gave up on requested, with the function's own
    tag-scoped rights; it writes its own logs and invokes no function."""
    resolve = Resolver(provider, parameters)
    grants = allowed(provider, resolve, role="ResponderRole")
    own_logs = [{"Fn::GetAtt": ["ResponderLogGroup", "Arn"]}]
    assert grants.pop("logs:CreateLogStream") == own_logs
    assert grants.pop("logs:PutLogEvents") == own_logs
    functions = allowed(provider, resolve)
    del functions["lambda:InvokeFunction"], functions["logs:CreateLogStream"]
    del functions["logs:PutLogEvents"]
    waits = {
        *parameters.get("WaitForRoleArns", "").split(","),
        str({"Fn::GetAtt": [WAIT_FOR_ROLE, "Arn"]}),
    }
    roles = [r for r in functions.pop("sts:AssumeRole", []) if str(r) not in waits]
    if roles:
        functions["sts:AssumeRole"] = roles
    assert grants == functions, "the responder makes no Custom::WaitFor call"
    trust = provider["Resources"]["ResponderRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust == provider["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"]


def test_both_functions_run_on_arm64(provider: dict[str, Any]) -> None:
    """The package is pure Python (tests/test_package.py), and arm64 costs 20 % less."""
    for name in ("Function", "Responder"):
        assert provider["Resources"][name]["Properties"]["Architectures"] == ["arm64"], name


def matches(spec: Mapping[str, Any], value: str) -> bool:
    return re.fullmatch(spec["AllowedPattern"], value) is not None


def test_reserved_concurrency_is_optional(provider: dict[str, Any]) -> None:
    spec = provider["Parameters"]["ReservedConcurrency"]
    assert spec["Default"] == ""
    assert all(matches(spec, v) for v in ("", "1", "20", "1000"))
    assert not any(matches(spec, v) for v in ("0", "-1", "x", "1.5", "05"))
    unreserved = resources(provider, Resolver(provider))["Function"]["Properties"]
    assert "ReservedConcurrentExecutions" not in unreserved
    reserved = resources(provider, Resolver(provider, EVERYTHING_SET))["Function"]["Properties"]
    assert reserved["ReservedConcurrentExecutions"] == "20"
    assert "one execution" in spec["Description"]


def test_a_kms_key_encrypts_both_log_groups_when_given(provider: dict[str, Any]) -> None:
    spec = provider["Parameters"]["LogKmsKeyArn"]
    assert spec["Default"] == "" and matches(spec, KMS_KEY)
    assert not matches(spec, "alias/logs") and not matches(spec, "arn:aws:kms:x")
    for parameters, key in ((DEFAULTS, None), (EVERYTHING_SET, KMS_KEY)):
        found = resources(provider, Resolver(provider, parameters))
        groups = [r for r in found.values() if r["Type"] == "AWS::Logs::LogGroup"]
        assert len(groups) == 2
        for group in groups:
            assert group["Properties"].get("KmsKeyId") == key
            assert group["Properties"]["RetentionInDays"] == parameters.get(
                "LogRetentionInDays", "30"
            )


def metric_of(query: Mapping[str, Any]) -> tuple[str, str]:
    """(metric name, the function it is about): all three are Lambda's Sum per function."""
    metric = query["MetricStat"]["Metric"]
    assert metric["Namespace"] == "AWS/Lambda"
    [dimension] = metric["Dimensions"]
    assert dimension["Name"] == "FunctionName"
    assert query["MetricStat"]["Stat"] == "Sum"
    assert set(dimension["Value"]) == {"Ref"}
    return metric["MetricName"], dimension["Value"]["Ref"]


def test_the_alarm_watches_the_last_resort_and_failed_hops(provider: dict[str, Any]) -> None:
    alarm = resources(provider, Resolver(provider))["Alarm"]["Properties"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    [watched] = [q for q in queries.values() if q["ReturnData"]]
    watched_metrics = {metric_of(q) for q in queries.values() if "MetricStat" in q}
    assert watched_metrics == {
        ("Invocations", "Responder"),
        ("DestinationDeliveryFailures", "Function"),
        ("Errors", "Function"),
    }
    used = set(re.findall(r"[a-z]\w*", watched["Expression"])) - {"FILL"}
    assert used == {i for i, q in queries.items() if "MetricStat" in q}
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "AlarmActions" not in alarm


def test_the_alarm_notifies_the_topic_and_can_be_switched_off(provider: dict[str, Any]) -> None:
    assert provider["Parameters"]["AlarmEnabled"]["Default"] == "true"
    alarm = resources(provider, Resolver(provider, EVERYTHING_SET))["Alarm"]["Properties"]
    assert alarm["AlarmActions"] == [TOPIC]
    assert "Alarm" not in resources(provider, Resolver(provider, {"AlarmEnabled": "false"}))
    assert matches(provider["Parameters"]["AlarmTopicArn"], TOPIC)


def test_log_group_retention_is_a_parameter(provider: dict[str, Any]) -> None:
    log_group = provider["Resources"]["LogGroup"]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_the_service_token_is_the_alias_and_never_changes(provider: dict[str, Any]) -> None:
    """CloudFormation does not let a stack change a custom resource's ServiceToken: it is
    the ARN of the alias "live" (fixed for good), which every upgrade moves to the new
    version, never the function's or a version's ARN."""
    output = provider["Outputs"]["ServiceToken"]
    assert output["Value"] == {"Ref": "Alias"}
    assert output["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-ServiceToken"}
    alias = provider["Resources"]["Alias"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    assert alias["Properties"]["Name"] == "live"
    assert alias["Properties"]["FunctionName"] == {"Ref": "Function"}
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": ["FunctionVersion", "Version"]}


def test_the_service_token_exists_only_once_every_permission_of_the_function_does(
    provider: dict[str, Any],
) -> None:
    """A stack that brings the provider along (the CDK construct) invokes the alias as soon
    as it exists: every policy of the function's role, conditional ones under their own
    condition, is referenced from the alias, which makes it a dependency."""
    resources = provider["Resources"]
    role_policies = {
        name: r.get("Condition")
        for name, r in resources.items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy")
        and {"Ref": "Role"} in [r["Properties"].get("RoleName"), *r["Properties"].get("Roles", [])]
    }
    referenced: dict[str, str | None] = {}
    for entry in resources["Alias"]["Metadata"]["Permissions"]:
        if "Ref" in entry:
            referenced[entry["Ref"]] = None
        else:
            condition, then, otherwise = entry["Fn::If"]
            assert otherwise == ""
            referenced[then["Ref"]] = condition
    assert {"CertificatesPolicy", "SelfInvokePolicy", "RecordsPolicy"} <= set(role_policies)
    assert referenced == role_policies


def test_every_change_publishes_a_version_that_outlives_its_replacement(
    provider: dict[str, Any],
) -> None:
    """A version is replaced (published anew) when its Description changes: it names the
    release, the package's hash and the one parameter in the function's configuration.
    Replaced versions and their async configs are retained for the waits running there."""
    version = provider["Resources"]["FunctionVersion"]
    assert version["Type"] == "AWS::Lambda::Version"
    description = Resolver(provider, {"LogLevel": "DEBUG"})(version["Properties"]["Description"])
    mapping = provider["Mappings"]["Release"]["Provider"]
    for part in (mapping["Version"], mapping["CodeSha256"], "DEBUG"):
        assert part in description
    function = provider["Resources"]["Function"]["Properties"]
    configured = [p for p in provider["Parameters"] if f"'Ref': '{p}'" in str(function)]
    assert configured == ["LogLevel", "ReservedConcurrency"]  # concurrency: function-wide
    for name in ("FunctionVersion", "VersionRetries"):
        resource = provider["Resources"][name]
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name


def test_the_release_is_visible_in_the_stack(provider: dict[str, Any]) -> None:
    resolve = Resolver(provider)
    version = provider["Mappings"]["Release"]["Provider"]["Version"]
    assert resolve(provider["Outputs"]["ProviderVersion"]["Value"]) == version
    for name in ("Function", "Responder"):
        assert version in resolve(provider["Resources"][name]["Properties"]["Description"])
    for name in ("Function", "Responder"):
        variables = provider["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert variables["WFC_LOG_LEVEL"] == {"Ref": "LogLevel"}, name


def test_only_lambda_may_assume_the_role(provider: dict[str, Any]) -> None:
    trust = provider["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


@pytest.mark.parametrize("parameters", [DEFAULTS, EVERYTHING_SET], ids=["defaults", "all-set"])
def test_no_wildcard_actions_and_no_star_resource_where_scoping_is_possible(
    provider: dict[str, Any], parameters: dict[str, str]
) -> None:
    grants = allowed(provider, Resolver(provider, parameters))
    for action, resources in grants.items():
        assert "*" not in action, action
        assert action.split(":")[0] in {*SERVICES.values(), "logs"}, action
        if action not in UNSCOPABLE:
            assert "*" not in resources, action


@pytest.mark.parametrize("parameters", [DEFAULTS, EVERYTHING_SET], ids=["defaults", "all-set"])
def test_the_role_allows_exactly_what_the_code_calls(
    provider: dict[str, Any], parameters: dict[str, str]
) -> None:
    grants = allowed(provider, Resolver(provider, parameters))
    granted = {a for a in grants if not a.startswith("logs:")}
    needed = called_actions()
    if not any(parameters.get(p) for p in ("Route53RoleArns", "WaitForRoleArns")):
        needed.discard("sts:AssumeRole")  # cross-account zones and WaitFor roles are opt-in
    if not parameters.get("HostedZoneArns"):
        needed.discard("route53:ChangeResourceRecordSets")  # so are hosted zones
        needed.discard("route53:ListResourceRecordSets")
    assert granted == needed


def test_the_code_scan_finds_the_calls_it_should() -> None:
    assert {
        "acm:RequestCertificate",
        "acm:DescribeCertificate",
        "acm:DeleteCertificate",
        "route53:ChangeResourceRecordSets",
        "sts:AssumeRole",
        "lambda:InvokeFunction",
    } <= called_actions()


def test_resources_are_scoped(provider: dict[str, Any]) -> None:
    grants = allowed(provider, Resolver(provider))
    own_certificates = "arn:aws-cn:acm:*:123456789012:certificate/*"
    for action, resources in grants.items():
        if action.startswith("acm:") and action not in UNSCOPABLE:
            assert set(resources) == {own_certificates}, action
    # The function itself, its versions (a hop invokes its own), and the responder.
    assert sorted(map(str, grants["lambda:InvokeFunction"])) == sorted(
        [
            *(str({"Fn::GetAtt": [name, "Arn"]}) for name in ("Function", "Responder")),
            "${Function.Arn}:*",
        ]
    )
    assert grants["logs:CreateLogStream"] == [{"Fn::GetAtt": ["LogGroup", "Arn"]}]
    assert grants["logs:PutLogEvents"] == [{"Fn::GetAtt": ["LogGroup", "Arn"]}]
    assert "route53:ChangeResourceRecordSets" not in grants, "no hosted zone unless listed"
    assert "sts:AssumeRole" not in grants
    every_zone = "arn:aws-cn:route53:::hostedzone/*"
    grants = allowed(provider, Resolver(provider, {"HostedZoneArns": every_zone}))
    assert grants["route53:ChangeResourceRecordSets"] == [every_zone]


def test_parameters_narrow_zones_and_allow_listed_roles(provider: dict[str, Any]) -> None:
    grants = allowed(provider, Resolver(provider, EVERYTHING_SET))
    assert grants["route53:ChangeResourceRecordSets"] == EVERYTHING_SET["HostedZoneArns"].split(",")
    assert grants["sts:AssumeRole"] == [
        *EVERYTHING_SET["Route53RoleArns"].split(","),
        *EVERYTHING_SET["WaitForRoleArns"].split(","),
        {"Fn::GetAtt": [WAIT_FOR_ROLE, "Arn"]},
    ]


def test_the_wait_for_role_holds_only_the_granted_policies_and_trusts_the_function(
    provider: dict[str, Any],
) -> None:
    assert WAIT_FOR_ROLE not in resources(provider, Resolver(provider))
    found = resources(provider, Resolver(provider, EVERYTHING_SET))
    props = found[WAIT_FOR_ROLE]["Properties"]
    assert props["ManagedPolicyArns"] == [EVERYTHING_SET["WaitForPolicyArns"]]
    assert "Policies" not in props
    [trust] = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}
    variables = found["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["WFC_WAIT_FOR_ROLE_ARN"] == {"Fn::GetAtt": [WAIT_FOR_ROLE, "Arn"]}
    default = resources(provider, Resolver(provider))["Function"]["Properties"]
    assert "WFC_WAIT_FOR_ROLE_ARN" not in default["Environment"]["Variables"]


def test_only_validation_records_can_be_changed(provider: dict[str, Any]) -> None:
    (statement,) = [
        s
        for s in statements(provider, Resolver(provider, EVERYTHING_SET))
        if "route53:ChangeResourceRecordSets" in listify(s["Action"])
    ]
    condition = statement["Condition"]
    equals = condition["ForAllValues:StringEquals"]
    assert equals["route53:ChangeResourceRecordSetsRecordTypes"] == ["CNAME"]
    assert set(equals["route53:ChangeResourceRecordSetsActions"]) <= {"UPSERT", "DELETE"}
    like = condition["ForAllValues:StringLike"]
    assert like["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == ["_*"]


MUTATING_ACM = frozenset(
    {
        "acm:DeleteCertificate",
        "acm:AddTagsToCertificate",
        "acm:RemoveTagsFromCertificate",
        "acm:UpdateCertificateOptions",
    }
)


@pytest.mark.parametrize("role", ROLES)
def test_the_role_itself_cannot_change_a_certificate_the_provider_did_not_request(
    provider: dict[str, Any], role: str
) -> None:
    """Every grant that changes a certificate is conditioned on the provider's tags; a
    request must carry them; and the provider's own tags can never be changed."""
    acm = [
        s
        for s in statements(provider, Resolver(provider, EVERYTHING_SET), role)
        if any(a.startswith("acm:") for a in listify(s["Action"]))
    ]
    for statement in acm:
        actions = set(listify(statement["Action"]))
        if actions <= {"acm:DescribeCertificate", "acm:ListTagsForCertificate"}:
            continue
        if actions == {"acm:ListCertificates"}:
            continue
        nulls = statement["Condition"]["Null"]
        if actions == {"acm:RequestCertificate"}:
            assert nulls == {
                f"aws:RequestTag/{STACK_TAG}": "false",
                f"aws:RequestTag/{REQUEST_TAG}": "false",
            }
        elif actions == {"acm:AddTagsToCertificate"}:
            assert nulls == {
                f"aws:RequestTag/{STACK_TAG}": "false",
                f"aws:ResourceTag/{STACK_TAG}": "true",
            }
        else:
            assert actions == MUTATING_ACM
            assert nulls == {f"aws:ResourceTag/{STACK_TAG}": "false"}
            keys = statement["Condition"]["ForAllValues:StringNotLike"]["aws:TagKeys"]
            assert keys == [TAG_PREFIX + "*"]


# The example consumer stack.

SAMPLE_VALUES = {"DomainName": "www.example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}
FUNCTION_ARN = "arn:aws-cn:lambda:cn-north-1:123456789012:function:wfc-Function-AbC123"


def test_example_parameters_accept_the_sample_values(example: dict[str, Any]) -> None:
    for name, value in SAMPLE_VALUES.items():
        spec = example["Parameters"][name]
        assert "Default" not in spec, f"{name} must be chosen by the user"
        assert re.fullmatch(spec["AllowedPattern"], value)
    region = example["Parameters"]["CertificateRegion"]
    assert region["Default"] == "us-east-1"
    assert re.fullmatch(region["AllowedPattern"], region["Default"])


def test_example_declares_a_valid_custom_resource(example: dict[str, Any]) -> None:
    resource = example["Resources"]["Certificate"]
    assert resource["Type"] == "Custom::WaitForCertificate"
    raw = resource["Properties"]
    assert raw["ServiceToken"] == {
        "Fn::ImportValue": {"Fn::Sub": "${ProviderStackName}-ServiceToken"}
    }
    assert raw["Region"] == {"Ref": "CertificateRegion"}
    resolve = Resolver(
        example, SAMPLE_VALUES, imports={"wait-for-certificate-ServiceToken": FUNCTION_ARN}
    )
    # CloudFormation sends every scalar property as a string.
    props = parse_properties(_as_strings(resolve(raw)))
    assert props.domain_name == "www.example.com"
    assert props.region == "us-east-1"
    assert props.service_timeout == raw["ServiceTimeout"] == 3600
    assert props.dns_targets and {t.hosted_zone_id for _, t in props.dns_targets} == {
        SAMPLE_VALUES["HostedZoneId"]
    }


def test_example_outputs_the_certificate_arn(example: dict[str, Any]) -> None:
    values = [o["Value"] for o in example["Outputs"].values()]
    assert {"Ref": "Certificate"} in values
    assert {"Fn::GetAtt": ["Certificate", "Arn"]} in values


def _as_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_strings(v) for v in value]
    return str(value)


def test_every_setting_is_documented() -> None:
    source = (ROOT / "custom_resource" / "settings.py").read_text()
    names = set(re.findall(r'(?:PREFIX \+ |env, )"([A-Z_]+)"', source))
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    documented = "".join(page.read_text() for page in pages)
    assert names, "no WFC_ setting found"
    for name in names:
        assert f"WFC_{name}" in documented, name


# checkov, the independent scanner `make lint` runs: in its own venv (requirements-checkov.txt).

CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


def checkov_environment() -> dict[str, str]:
    """The Makefile's CHECKOV_ENV: what keeps checkov offline, in one place."""
    line = next(
        line
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("CHECKOV_ENV")
    )
    return dict(item.split("=", 1) for item in line.split(":=", 1)[1].split())


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: `make lint` (or `make venv`) installs it")
    result = subprocess.run(
        [
            *(str(CHECKOV), "--directory", str(TEMPLATES), "--framework", "cloudformation"),
            *("--skip-download", "--output", "json"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **checkov_environment()},
        timeout=120,
        check=False,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_checkov_is_kept_offline() -> None:
    assert checkov_environment() == {
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "CKV_PARSE_ERROR_FAIL": "TRUE",
    }


def test_checkov_passes_on_every_template(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    assert summary["failed"] == 0, [
        (c["check_id"], c["resource"]) for c in checkov_report["results"]["failed_checks"]
    ]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 20
    scanned = {c["file_path"] for c in checkov_report["results"]["passed_checks"]}
    assert scanned == {"/provider.yaml", "/example-12h.yaml", "/example-wait-for.yaml"}, (
        "example.yaml has nothing to check"
    )


def declared_skips(template: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (skip["id"], name): skip["comment"]
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


def test_every_skipped_check_is_justified_and_needed(
    provider: dict[str, Any], checkov_report: dict[str, Any]
) -> None:
    skipped = {
        (c["check_id"], c["resource"].rsplit(".", 1)[1])
        for c in checkov_report["results"]["skipped_checks"]
    }
    declared = declared_skips(provider)
    assert skipped == set(declared), "a skip of a check checkov does not run here is stale"
    for (check, resource), comment in declared.items():
        assert len(comment.split()) >= 12, f"{check} on {resource}: say why it does not apply"


# The 12-hour mode example.


def test_example_12h_wires_handle_resource_and_wait_condition() -> None:
    template = load(TEMPLATES / "example-12h.yaml")
    resources = template["Resources"]
    [handle] = [n for n, r in resources.items() if r["Type"].endswith("WaitConditionHandle")]
    [wait] = [n for n, r in resources.items() if r["Type"].endswith("::WaitCondition")]
    raw = resources["Certificate"]["Properties"]
    assert raw["WaitConditionHandle"] == {"Ref": handle}
    assert resources[wait]["Properties"]["Handle"] == {"Ref": handle}
    assert resources[wait]["Properties"]["Timeout"] == raw["WaitTimeout"]
    assert resources["IssuedCertificateParameter"]["DependsOn"] == wait
    resolve = Resolver(
        template,
        {"DomainName": "www.example.com", "WaitTimeout": "43200"},
        imports={"wait-for-certificate-ServiceToken": FUNCTION_ARN},
    )
    props = parse_properties(
        _as_strings({**resolve(raw), "WaitConditionHandle": WAIT_HANDLE, "WaitTimeout": 43200})
    )
    assert props.wait_handle == WAIT_HANDLE and props.wait_timeout == 43200
    outputs = {o["Value"].get("Fn::GetAtt", [None, None])[1] for o in template["Outputs"].values()}
    assert {"ValidationRecordName", "ValidationRecordValue", "ValidationRecords"} <= outputs


# The Custom::WaitFor example.

WAIT_FOR_SAMPLES = {"BucketName": "uploads", "ClusterName": "main", "DistributionId": "E2ABC"}


def test_example_wait_for_declares_valid_waits_with_their_role() -> None:
    template = load(TEMPLATES / "example-wait-for.yaml")
    resolve = Resolver(
        template,
        WAIT_FOR_SAMPLES,
        imports={
            "wait-for-certificate-ServiceToken": FUNCTION_ARN,
            "wait-for-certificate-RoleArn": "arn:aws-cn:iam::123456789012:role/provider-Role",
        },
    )
    waits = {n: r for n, r in template["Resources"].items() if r["Type"] == RESOURCE_TYPE}
    assert set(waits) == {"UploadArrived", "ServiceStable", "DistributionDeployed"}
    role = {"Fn::GetAtt": ["WaiterRole", "Arn"]}
    parsed = {}
    for name, resource in waits.items():
        raw = resolve(resource["Properties"])
        assert raw["RoleArn"] == role
        props = {**_as_strings(raw), "RoleArn": "arn:aws-cn:iam::123456789012:role/w-waiter"}
        parsed[name] = parse_wait_for(props)
    assert parsed["UploadArrived"].waiter == "ObjectExists"
    assert parsed["DistributionDeployed"].waiter == "DistributionDeployed"
    assert parsed["ServiceStable"].parameters == {"cluster": "main", "services": ["web"]}
    reads = {
        s["Action"]
        for s in resolve(template["Resources"]["WaiterRole"]["Properties"])["Policies"][0][
            "PolicyDocument"
        ]["Statement"]
    }
    assert reads == {"s3:GetObject", "ecs:DescribeServices", "cloudfront:GetDistribution"}
