"""WaitForCertificate in a eu-west-1 stack: synthesis, cfn-lint, one shared provider."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_route53 as route53
from aws_cdk.assertions import Match, Template
from wait_for_certificate_cdk import WaitForCertificate
from wait_for_certificate_cdk._template import apply, load
from wait_for_certificate_cdk.provider import SINGLETON_ID

from custom_resource.certificates.properties import parse_properties
from custom_resource.checks import PropertyError
from custom_resource.version import provider_version
from tests.cdk.apps import (
    DNS_ROLE,
    ZONE_ID,
    cfn_lint,
    new_stack,
    service_token_output,
    site,
    template,
)
from tests.conftest import FUNCTION_ARN, World, make_event

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "template" / "provider.yaml"
PREFIX = f"{SINGLETON_ID}Template"
"""How the stack names the provider's resources: this, the template's name, a hash."""


@pytest.fixture(scope="module")
def synthesized() -> dict[str, Any]:
    stack = new_stack()
    site(stack)
    return template(stack)


@pytest.fixture(scope="module")
def assertions(synthesized: dict[str, Any]) -> Template:
    return Template.from_json(synthesized)


def included(synthesized: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """The provider template's resource ``logical_id`` as the stack holds it."""
    [found] = [
        body for name, body in synthesized["Resources"].items() if _source(name) == logical_id
    ]
    return found


_RENAMED = re.compile(rf"{PREFIX}(?:Conditions|Mappings)?(\w+?)[0-9A-F]{{8}}\b")
"""How the stack names the provider's resources and conditions: a prefix, the template's
name, a hash."""


def _source(name: str) -> str | None:
    match = _RENAMED.fullmatch(name)
    return match.group(1) if match else None


def as_in_the_template(node: Any) -> Any:
    """Names and references of the stack's template as the provider's template has them."""
    if isinstance(node, dict):
        if set(node) == {"Fn::GetAtt"} and isinstance(node["Fn::GetAtt"], str):
            node = {"Fn::GetAtt": node["Fn::GetAtt"].split(".", 1)}
        return {as_in_the_template(k): as_in_the_template(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_in_the_template(value) for value in node]
    return _RENAMED.sub(r"\1", node) if isinstance(node, str) else node


def test_two_certificates_share_one_provider(assertions: Template) -> None:
    assertions.resource_count_is("Custom::WaitForCertificate", 2)
    assertions.resource_count_is("AWS::Lambda::Function", 2)  # the function, the responder
    # $LATEST, the alias, the published version, and the responder
    assertions.resource_count_is("AWS::Lambda::EventInvokeConfig", 4)
    tokens = [
        body["Properties"]["ServiceToken"]
        for body in assertions.find_resources("Custom::WaitForCertificate").values()
    ]
    assert tokens == [service_token_output(assertions.to_json())] * 2


def test_cloudfront_uses_the_us_east_1_certificate(assertions: Template) -> None:
    [cert_id] = assertions.find_resources(
        "Custom::WaitForCertificate",
        {"Properties": {"DomainName": "www.example.com", "Region": "us-east-1"}},
    )
    assertions.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {"ViewerCertificate": Match.object_like({"AcmCertificateArn": {"Ref": cert_id}})}
            )
        },
    )


def test_properties_are_sent_as_the_handler_reads_them(assertions: Template) -> None:
    assertions.has_resource_properties(
        "Custom::WaitForCertificate",
        {
            "ServiceTimeout": "3600",
            "DomainName": "www.example.com",
            "SubjectAlternativeNames": ["example.com"],
            "HostedZoneId": ZONE_ID,
            "Region": "us-east-1",
            "Tags": [{"Key": "team", "Value": "web"}],
        },
    )
    assertions.has_resource_properties(
        "Custom::WaitForCertificate",
        {"Route53RoleArn": DNS_ROLE, "RemoveValidationRecords": "true"},
    )


def test_template_passes_cfn_lint(synthesized: dict[str, Any], tmp_path: Path) -> None:
    """cfn-lint, with the rules the project ships for Custom::WaitForCertificate."""
    result = cfn_lint(synthesized, tmp_path / "site.json")
    assert result.returncode == 0, result.stdout + result.stderr
    broken = json.loads(json.dumps(synthesized))  # the rules do run: a typo is caught
    for body in broken["Resources"].values():
        if body["Type"] == "Custom::WaitForCertificate":
            body["Properties"]["DomainNmae"] = body["Properties"].pop("DomainName")
    assert "did you mean DomainName?" in cfn_lint(broken, tmp_path / "broken.json").stdout


def test_included_provider_is_provider_yaml_with_the_code_as_an_asset(
    synthesized: dict[str, Any],
) -> None:
    """One definition: every resource of template/provider.yaml is in the stack, exactly as
    the template has it with its defaults and the certificates' zone and role (IAM
    statements, timeouts, memory, architecture, retries, event age, destination,
    RecursiveLoop), but for each function's Code: an asset of the same package."""
    stack = as_in_the_template(apply(json.loads(json.dumps(synthesized)), {}))
    policy = stack["Resources"]["RecordsPolicy"]["Properties"]["PolicyDocument"]
    [zones] = [s["Resource"] for s in policy["Statement"] if s["Sid"] == "WriteValidationRecords"]
    source = load(PROVIDER)
    options = {
        name: spec["Default"]
        for name, spec in source["Parameters"].items()
        if spec["Type"] != "CommaDelimitedList"
    }
    lists = {
        "HostedZoneArns": zones,
        "Route53RoleArns": [DNS_ROLE],
        "WaitForRoleArns": [],
        "WaitForPolicyArns": [],
    }
    expected = apply(source, {**options, **lists})
    # The zones' ARNs are tokens (the partition): the stack evaluates the condition on
    # them at synthesis, where the list holds one, so the policy has none left.
    del expected["Resources"]["RecordsPolicy"]["Condition"]
    permissions = expected["Resources"]["Alias"]["Metadata"]["Permissions"]
    unconditional = {"Fn::If": ["MayWriteRecords", {"Ref": "RecordsPolicy"}, ""]}
    permissions[permissions.index(unconditional)] = {"Ref": "RecordsPolicy"}
    assert set(stack["Resources"]) >= set(expected["Resources"])
    for logical_id, body in expected["Resources"].items():
        found = stack["Resources"][logical_id]
        if body["Type"] == "AWS::Lambda::Function":
            assert set(found["Properties"].pop("Code")) == {"S3Bucket", "S3Key"}
            assert body["Properties"].pop("Code") == "../dist/wait-for-certificate.zip"
        if isinstance(body.get("DependsOn"), str):  # the CDK writes it as a list
            body["DependsOn"] = [body["DependsOn"]]
        assert found == body, logical_id
    assert set(stack.get("Parameters", {})) <= {"BootstrapVersion"}


def test_the_provider_may_write_the_zone_and_assume_the_role(synthesized: dict[str, Any]) -> None:
    policies = [
        included(synthesized, name)["Properties"]["PolicyDocument"]
        for name in ("RecordsPolicy", "Route53RolesPolicy")
    ]
    text = json.dumps(cdk.Stack.of(new_stack()).resolve(policies))
    assert f":route53:::hostedzone/{ZONE_ID}" in text
    assert DNS_ROLE in text
    assert "hostedzone/Z9876543210ZYXWVUTSRQ" not in text, "that zone is the role's account's"


def test_a_service_token_includes_no_provider() -> None:
    stack = new_stack()
    WaitForCertificate(
        stack,
        "Cert",
        domain_name="www.example.com",
        hosted_zone_id=ZONE_ID,
        service_token=cdk.Fn.import_value("wait-for-certificate-ServiceToken"),
    )
    assertions = Template.from_stack(stack)
    assertions.resource_count_is("AWS::Lambda::Function", 0)
    assertions.resource_count_is("Custom::WaitForCertificate", 1)


BAD = [
    ({"domain_name": "www.example.com."}, {"DomainName": "www.example.com."}),
    (
        {"domain_name": "example.com", "service_timeout": cdk.Duration.hours(2)},
        {"DomainName": "example.com", "ServiceTimeout": "7200"},
    ),
    (
        {"domain_name": "example.com", "hosted_zone_id": "zone-1", "tags": {"aws:x": "y"}},
        {
            "DomainName": "example.com",
            "HostedZoneId": "zone-1",
            "Tags": [{"Key": "aws:x", "Value": "y"}],
        },
    ),
    (
        {"domain_name": "example.com", "route53_role_arn": DNS_ROLE},
        {"DomainName": "example.com", "Route53RoleArn": DNS_ROLE},
    ),
]


@pytest.mark.parametrize(("keywords", "sent"), BAD, ids=lambda v: str(v)[:40])
def test_bad_values_fail_synthesis_with_the_handlers_message(
    keywords: dict[str, Any], sent: dict[str, Any]
) -> None:
    stack = new_stack()
    with pytest.raises(PropertyError) as raised:
        WaitForCertificate(stack, "Cert", **keywords)
    with pytest.raises(PropertyError) as handler:
        parse_properties({"ServiceToken": FUNCTION_ARN, **sent})
    assert str(raised.value) == str(handler.value)
    assert stack.node.try_find_child(SINGLETON_ID) is None, "nothing added for a bad resource"


def test_the_handler_answers_a_bad_value_with_the_same_message(world: World) -> None:
    with pytest.raises(PropertyError) as raised:
        WaitForCertificate(new_stack(), "Cert", domain_name="www.example.com.", region="mars-1")
    world.lam.run(make_event(DomainName="www.example.com.", Region="mars-1"))
    assert world.sink.last["Status"] == "FAILED"
    assert world.sink.last["Reason"] == str(raised.value)


def test_values_known_only_at_deployment_are_left_to_the_handler() -> None:
    stack = new_stack()
    zone = route53.PublicHostedZone(stack, "Zone", zone_name="example.com")
    name = cdk.CfnParameter(stack, "Name", default="www.example.com").value_as_string
    WaitForCertificate(
        stack,
        "Cert",
        domain_name=name,
        hosted_zone=zone,
        route53_role_arn=None,
        region=cdk.Aws.REGION,
        domain_validation_options=[],
    )
    Template.from_stack(stack).has_resource_properties(
        "Custom::WaitForCertificate", {"HostedZoneId": {"Ref": Match.any_value()}}
    )


def test_new_code_publishes_a_new_function_version(synthesized: dict[str, Any]) -> None:
    """The version's Description names the package's hash (the asset's), so a deploy of
    new code publishes a new version and moves the ServiceToken's alias to it."""
    [release] = [m for name, m in synthesized["Mappings"].items() if "Release" in name]
    assert release["Provider"]["Version"] == provider_version()
    assert re.fullmatch(r"[0-9a-f]{64}", release["Provider"]["CodeSha256"])
