"""The CloudFormation templates: structure, least-privilege IAM, and the example's properties.

Templates are read with cfn-lint's decoder (short-form tags such as !Sub become their long
form) and the intrinsic functions they use are evaluated by a small resolver below, once
with the parameter defaults and once with every optional parameter set.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from cfnlint.decode import cfn_yaml

from custom_resource.properties import parse_properties
from custom_resource.settings import Settings
from release import build_zip

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

SERVICES = {"acm": "acm", "route53": "route53", "sts": "sts", "lambda": "lambda"}
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
            raise AssertionError(f"${{{name}}} in Fn::Sub is not a parameter or pseudo parameter")

        return re.sub(r"\$\{([\w:.]+)\}", value, text)


def listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: Mapping[str, Any], resolve: Resolver) -> Iterator[dict[str, Any]]:
    """Every statement of every policy that ends up on the function's role."""
    resources = resolve(template["Resources"])
    for policy in resources["Role"]["Properties"].get("Policies", []):
        yield from listify(policy["PolicyDocument"]["Statement"])
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy":
            assert props["RoleName"] == {"Ref": "Role"}
        elif resource["Type"] == "AWS::IAM::Policy":
            assert props.get("Roles") == [{"Ref": "Role"}]
        else:
            continue
        yield from listify(props["PolicyDocument"]["Statement"])


def allowed(template: Mapping[str, Any], resolve: Resolver) -> dict[str, list[Any]]:
    """IAM action -> every Resource entry granting it."""
    grants: dict[str, list[Any]] = {}
    for statement in statements(template, resolve):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in listify(statement["Action"]):
            grants.setdefault(action, []).extend(listify(statement["Resource"]))
    return grants


def called_actions() -> set[str]:
    """The IAM action of every AWS API the provider code calls, found by scanning it."""
    source = "\n".join(p.read_text() for p in (ROOT / "custom_resource").glob("*.py"))
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
EVERYTHING_SET = {
    "HostedZoneArns": ",".join(
        f"arn:aws-cn:route53:::hostedzone/{zone}" for zone in ("Z1AAAA", "Z2BBB")
    ),
    "Route53RoleArns": "arn:aws-cn:iam::210987654321:role/dns,arn:aws-cn:iam::210987654321:role/x",
    "LogRetentionInDays": "7",
}


@pytest.fixture(scope="module")
def provider() -> dict[str, Any]:
    return load(PROVIDER)


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return load(EXAMPLE)


def test_every_template_is_parsed(provider: dict[str, Any], example: dict[str, Any]) -> None:
    assert sorted(p.name for p in TEMPLATES.glob("*.yaml")) == ["example.yaml", "provider.yaml"]
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


def test_recursive_loop_detection_stays_on_within_the_hop_budget(provider: dict[str, Any]) -> None:
    props = provider["Resources"]["Function"]["Properties"]
    assert props["RecursiveLoop"] == "Terminate"
    usable = props["Timeout"] - Settings().handoff_margin_seconds
    hops = math.ceil(3600 / usable)  # CloudFormation's longest ServiceTimeout
    assert hops <= 5, "a 1-hour wait must stay far below Lambda's ~16-hop limit"


def test_failed_hops_are_retried(provider: dict[str, Any]) -> None:
    configs = [
        r["Properties"]
        for r in provider["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    ]
    assert len(configs) == 1
    config = configs[0]
    assert config["FunctionName"] == {"Ref": "Function"}
    assert config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == 2
    assert 600 <= config["MaximumEventAgeInSeconds"] <= 3600


def test_log_group_retention_is_a_parameter(provider: dict[str, Any]) -> None:
    log_group = provider["Resources"]["LogGroup"]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_the_service_token_is_exported(provider: dict[str, Any]) -> None:
    output = provider["Outputs"]["ServiceToken"]
    assert output["Value"] == {"Fn::GetAtt": ["Function", "Arn"]}
    assert output["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-ServiceToken"}


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
        assert action.split(":")[0] in {"acm", "route53", "sts", "lambda", "logs"}, action
        if action not in UNSCOPABLE:
            assert "*" not in resources, action


@pytest.mark.parametrize("parameters", [DEFAULTS, EVERYTHING_SET], ids=["defaults", "all-set"])
def test_the_role_allows_exactly_what_the_code_calls(
    provider: dict[str, Any], parameters: dict[str, str]
) -> None:
    grants = allowed(provider, Resolver(provider, parameters))
    granted = {a for a in grants if not a.startswith("logs:")}
    needed = called_actions()
    if not parameters.get("Route53RoleArns"):
        needed.discard("sts:AssumeRole")  # cross-account zones are opt-in
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
            assert resources == [own_certificates], action
    assert grants["lambda:InvokeFunction"] == [{"Fn::GetAtt": ["Function", "Arn"]}]
    assert grants["logs:CreateLogStream"] == [{"Fn::GetAtt": ["LogGroup", "Arn"]}]
    assert grants["logs:PutLogEvents"] == [{"Fn::GetAtt": ["LogGroup", "Arn"]}]
    assert grants["route53:ChangeResourceRecordSets"] == ["arn:aws-cn:route53:::hostedzone/*"]
    assert "sts:AssumeRole" not in grants


def test_parameters_narrow_zones_and_allow_listed_roles(provider: dict[str, Any]) -> None:
    grants = allowed(provider, Resolver(provider, EVERYTHING_SET))
    assert grants["route53:ChangeResourceRecordSets"] == EVERYTHING_SET["HostedZoneArns"].split(",")
    assert grants["sts:AssumeRole"] == EVERYTHING_SET["Route53RoleArns"].split(",")


def test_only_validation_records_can_be_changed(provider: dict[str, Any]) -> None:
    (statement,) = [
        s
        for s in statements(provider, Resolver(provider))
        if "route53:ChangeResourceRecordSets" in listify(s["Action"])
    ]
    condition = statement["Condition"]
    equals = condition["ForAllValues:StringEquals"]
    assert equals["route53:ChangeResourceRecordSetsRecordTypes"] == ["CNAME"]
    assert set(equals["route53:ChangeResourceRecordSetsActions"]) <= {"UPSERT", "DELETE"}
    like = condition["ForAllValues:StringLike"]
    assert like["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == ["_*"]


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
    documented = (ROOT / "README.md").read_text()
    assert names, "no WFC_ setting found"
    for name in names:
        assert f"WFC_{name}" in documented, name
