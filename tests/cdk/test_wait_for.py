"""WaitFor beside a WaitForCertificate: one provider, the handler's checks at synthesis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from wait_for_certificate_cdk import Acceptor, WaitFor, WaitForCertificate
from wait_for_certificate_cdk._template import apply
from wait_for_certificate_cdk.provider import SINGLETON_ID

from custom_resource.checks import PropertyError
from custom_resource.waiters.waiter_properties import RESOURCE_TYPE, parse_wait_for
from tests.cdk.apps import ZONE_ID, cfn_lint, new_stack, service_token_output, template
from tests.conftest import FUNCTION_ARN

WAITER_ROLE = "arn:aws:iam::123456789012:role/waiter"


@pytest.fixture(scope="module")
def waits() -> dict[str, Any]:
    """A stack with a certificate, a WaitFor on an S3 object (literal names) and one with
    its own acceptors on a bucket of the same stack (a token only known at deployment)."""
    stack = new_stack()
    WaitForCertificate(stack, "Cert", domain_name="www.example.com", hosted_zone_id=ZONE_ID)
    upload = WaitFor(
        stack,
        "Upload",
        service="s3",
        waiter="object_exists",
        parameters={"Bucket": "my-bucket", "Key": "ready.flag"},
        delay=cdk.Duration.seconds(5),
        role_arn=WAITER_ROLE,
        outputs={"ETag": "ETag"},
        service_timeout=cdk.Duration.minutes(30),
    )
    bucket = s3.Bucket(stack, "Bucket")
    job = WaitFor(
        stack,
        "JobDone",
        service="s3",
        operation="GetObjectTagging",
        parameters={"Bucket": bucket.bucket_name, "Key": "job"},
        acceptors=[
            Acceptor("success", "pathAny", "done", argument="TagSet[].Value"),
            Acceptor("retry", "error", "NoSuchKey"),
            {"State": "failure", "Matcher": "status", "Expected": 403},
        ],
        delay=30,
    )
    return {"stack": stack, "upload": upload, "job": job, "synthesized": template(stack)}


@pytest.fixture(scope="module")
def assertions(waits: dict[str, Any]) -> Template:
    return Template.from_json(waits["synthesized"])


def _wait_fors(assertions: Template) -> dict[str, Any]:
    found: dict[str, Any] = assertions.find_resources(RESOURCE_TYPE)
    return found


def test_wait_for_uses_the_providers_service_token(assertions: Template) -> None:
    token = service_token_output(assertions.to_json())
    wait_fors = _wait_fors(assertions)
    assert len(wait_fors) == 2
    assert [body["Properties"]["ServiceToken"] for body in wait_fors.values()] == [token] * 2


def test_one_provider_serves_certificates_and_wait_fors(
    assertions: Template, waits: dict[str, Any]
) -> None:
    assertions.resource_count_is("AWS::Lambda::Function", 2)  # the function, the responder
    [certificate] = assertions.find_resources("Custom::WaitForCertificate").values()
    assert certificate["Properties"]["ServiceToken"] == service_token_output(assertions.to_json())
    provider = waits["stack"].node.find_child(SINGLETON_ID)
    assert waits["upload"].provider is provider
    assert waits["job"].provider is provider


def test_what_is_sent_is_what_the_handler_accepts(assertions: Template) -> None:
    [upload] = [body for body in _wait_fors(assertions).values() if "Waiter" in body["Properties"]]
    sent = upload["Properties"]
    assert sent["Delay"] == "5"
    assert sent["ServiceTimeout"] == "1800"
    parsed = parse_wait_for({**sent, "ServiceToken": FUNCTION_ARN})
    assert (parsed.waiter, parsed.operation, parsed.delay) == ("ObjectExists", "HeadObject", 5)
    assert parsed.parameters == {"Bucket": "my-bucket", "Key": "ready.flag"}
    assert (parsed.role_arn, parsed.outputs) == (WAITER_ROLE, (("ETag", "ETag"),))


def test_acceptors_are_sent_with_botocores_fields(assertions: Template) -> None:
    [job] = [body for body in _wait_fors(assertions).values() if "Acceptors" in body["Properties"]]
    sent = job["Properties"]
    assert sent["Acceptors"] == [
        {
            "State": "success",
            "Matcher": "pathAny",
            "Argument": "TagSet[].Value",
            "Expected": "done",
        },
        {"State": "retry", "Matcher": "error", "Expected": "NoSuchKey"},
        {"State": "failure", "Matcher": "status", "Expected": 403},
    ]
    assert sent["Delay"] == "30"
    assert set(sent["Parameters"]["Bucket"]) == {"Ref"}  # the token, checked at deployment


def test_attribute_is_the_outputs_get_att(waits: dict[str, Any], assertions: Template) -> None:
    upload = waits["upload"]
    [logical_id] = _wait_fors(assertions).keys() - {
        name for name, body in _wait_fors(assertions).items() if "Acceptors" in body["Properties"]
    }
    resolved = upload.resource.stack.resolve(upload.attribute("ETag"))
    assert resolved == {"Fn::GetAtt": [logical_id, "ETag"]}
    assert upload.resource.stack.resolve(upload.get_att("ETag")) == resolved
    with pytest.raises(ValueError, match="'Etag' is not one of this WaitFor's outputs"):
        upload.attribute("Etag")


def test_a_bad_waiter_name_fails_synthesis_with_the_handlers_message() -> None:
    stack = new_stack()
    with pytest.raises(PropertyError) as raised:
        WaitFor(stack, "Bad", service="s3", waiter="ObjectExist", parameters={"Bucket": "b"})
    message = str(raised.value)
    assert "Waiter: 'ObjectExist' is not a waiter of s3 (did you mean 'ObjectExists'?)" in message
    with pytest.raises(PropertyError, match=r"Parameters.Kee: unknown parameter \(did you mean"):
        WaitFor(stack, "Typo", service="s3", waiter="ObjectExists", parameters={"Kee": "k"})


def test_a_service_token_includes_no_provider() -> None:
    stack = new_stack()
    wait = WaitFor(
        stack,
        "Elsewhere",
        service="s3",
        waiter="BucketExists",
        parameters={"Bucket": "b"},
        role_arn=WAITER_ROLE,
        service_token=cdk.Fn.import_value("wait-for-certificate-ServiceToken"),
    )
    assert wait.provider is None
    assert stack.node.try_find_child(SINGLETON_ID) is None


@pytest.fixture(scope="module")
def roles() -> dict[str, Any]:
    """A stack whose WaitFors name roles, none listed for the provider by hand: two with
    a literal ARN, two with the ARN of a role of the same stack (a token)."""
    stack = new_stack()
    role = iam.Role(stack, "Waiter", assumed_by=iam.AccountRootPrincipal())
    for index, role_arn in enumerate([WAITER_ROLE, WAITER_ROLE, role.role_arn, role.role_arn]):
        WaitFor(
            stack,
            f"Wait{index}",
            service="s3",
            waiter="BucketExists",
            parameters={"Bucket": "my-bucket"},
            role_arn=role_arn,
        )
    role_id = stack.get_logical_id(role.node.default_child)
    return {"role_id": role_id, "synthesized": template(stack)}


def _wait_for_roles_policy(synthesized: dict[str, Any]) -> dict[str, Any]:
    [policy] = [
        body
        for body in synthesized["Resources"].values()
        if body["Type"] == "AWS::IAM::Policy"
        and body["Properties"]["PolicyName"] == "wait-for-roles"  # WaitForRolesPolicy
    ]
    return policy


def test_the_provider_may_assume_each_wait_fors_role_once(roles: dict[str, Any]) -> None:
    """WaitForRoleArns as the provider's template uses it: the roles its function may
    assume, each WaitFor's role_arn listed once, literal or token."""
    policy = _wait_for_roles_policy(roles["synthesized"])
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"] == [WAITER_ROLE, {"Fn::GetAtt": [roles["role_id"], "Arn"]}]


def test_the_roles_policy_is_created_whatever_the_tokens_resolve_to(
    roles: dict[str, Any],
) -> None:
    """The policy's condition (WaitForRoleArns not empty) holds at synthesis: a condition
    may not refer to a resource, so the role's token is not in it."""
    synthesized = roles["synthesized"]
    condition = synthesized["Conditions"][_wait_for_roles_policy(synthesized)["Condition"]]
    assert roles["role_id"] not in str(condition)
    folded = apply(json.loads(json.dumps(synthesized)), {})
    assert "Condition" not in _wait_for_roles_policy(folded), "the condition is always true"


def test_a_stack_with_wait_for_roles_passes_cfn_lint(roles: dict[str, Any], tmp_path: Path) -> None:
    result = cfn_lint(roles["synthesized"], tmp_path / "roles.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wait_for_beside_a_certificate_adds_only_its_role(waits: dict[str, Any]) -> None:
    """The provider shared with a certificate: the WaitFor's role, nothing else (the
    certificate's zone is not a role, and the WaitFor without role_arn adds none)."""
    [statement] = _wait_for_roles_policy(waits["synthesized"])["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert statement["Resource"] == [WAITER_ROLE]


def test_a_tokens_stand_in_has_its_parameters_type() -> None:
    """A token for a boolean or a list parameter, alone or deep in a structure, is left
    to the handler at deployment: its stand-in has the member's type in botocore's
    model (``"1"`` for every type would fail a boolean), and what is known is checked."""
    stack = new_stack()
    dry_run = cdk.CfnParameter(stack, "DryRun", default="false").value_as_string
    ids = cdk.CfnParameter(stack, "Ids", type="CommaDelimitedList").value_as_list
    wait = WaitFor(
        stack,
        "Running",
        service="ec2",
        waiter="InstanceRunning",
        parameters={
            "DryRun": dry_run,
            "InstanceIds": ids,
            "Filters": [{"Name": "tag:app", "Values": [dry_run]}],
        },
    )
    assert wait.properties.parameters == {
        "DryRun": True,
        "InstanceIds": [],
        "Filters": [{"Name": "tag:app", "Values": ["1"]}],
    }
    with pytest.raises(PropertyError, match=r"Parameters\.DryRun: 'maybe' is not true or false"):
        WaitFor(
            stack, "Bad", service="ec2", waiter="InstanceRunning", parameters={"DryRun": "maybe"}
        )
