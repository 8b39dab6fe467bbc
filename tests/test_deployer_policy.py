"""The deployer policy covers what deploying, updating and deleting the provider stack needs.

``template/deployer-policy.json`` is the least-privilege IAM policy of whoever runs
``make deploy`` (or the pipeline doing it). Here it is evaluated (Allow statements,
wildcards as IAM matches them) against the actions CloudFormation takes for every
resource type of ``template/provider.yaml``, on the names CloudFormation gives those
resources in a stack called ``wait-for-certificate``. A resource type the table below does
not know fails the test: whoever adds one to the template states what it needs here.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tools.emulator import load_template

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "template" / "deployer-policy.json"
PROVIDER = ROOT / "template" / "provider.yaml"

STACK = "wait-for-certificate"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
STACK_ARN = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/8c5e6f10-0000-11ee-0000-0a1b2c3d4e5f"
)
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-Function-AbC123dEf456"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{STACK}-Role-AbC123dEf456"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{STACK}-LogGroup-AbC123dEf456"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{STACK}-Alarm-AbC123dEf456"
PACKAGE_ARN = f"arn:aws:s3:::my-artifacts/{STACK}/0123456789abcdef0123456789abcdef"

FUNCTION_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetRuntimeManagementConfig",
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
    "lambda:GetFunctionConcurrency",
    "lambda:PutFunctionRecursionConfig",
    "lambda:GetFunctionRecursionConfig",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:ListTags",
)
EVENT_INVOKE_ACTIONS = tuple(
    f"lambda:{verb}FunctionEventInvokeConfig" for verb in ("Put", "Update", "Get", "Delete")
)

NEEDS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    # resource type: [(actions, on these resources)], what CloudFormation calls to create,
    # read, update and delete one (the resource types' handlers), for the properties the
    # template uses.
    "AWS::Logs::LogGroup": [
        (
            (
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:ListTagsForResource",
            ),
            (LOG_GROUP_ARN, f"{LOG_GROUP_ARN}:*"),
        ),
        (("logs:DescribeLogGroups",), (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*",)),
    ],
    "AWS::IAM::Role": [
        (
            (
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ),
            (ROLE_ARN,),
        )
    ],
    "AWS::IAM::RolePolicy": [
        (("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"), (ROLE_ARN,))
    ],
    # An AWS::IAM::Policy attached to the stack's roles is written as their inline policy.
    "AWS::IAM::Policy": [
        (("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"), (ROLE_ARN,))
    ],
    "AWS::Lambda::Function": [
        (FUNCTION_ACTIONS, (FUNCTION_ARN,)),
        (("iam:PassRole",), (ROLE_ARN,)),
        (("s3:GetObject", "s3:GetObjectVersion"), (PACKAGE_ARN,)),
    ],
    "AWS::Lambda::Version": [
        (
            (
                "lambda:PublishVersion",
                "lambda:ListVersionsByFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:DeleteFunction",
            ),
            (FUNCTION_ARN, f"{FUNCTION_ARN}:7"),
        )
    ],
    "AWS::Lambda::Alias": [
        (
            ("lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetAlias"),
            (FUNCTION_ARN, f"{FUNCTION_ARN}:live"),
        )
    ],
    "AWS::Lambda::EventInvokeConfig": [
        (EVENT_INVOKE_ACTIONS, (FUNCTION_ARN, f"{FUNCTION_ARN}:live", f"{FUNCTION_ARN}:7"))
    ],
    "AWS::CloudWatch::Alarm": [
        (
            (
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ),
            (ALARM_ARN,),
        )
    ],
}

STACK_ACTIONS = (
    # `aws cloudformation deploy` (change sets), delete-stack, and reading what happened.
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:GetTemplateSummary",
)
UPLOAD_ACTIONS = ("s3:PutObject", "s3:GetObject")
"""`aws cloudformation package` checks whether the zip is there, then uploads it."""

IAM_ONLY = {"iam:PassRole", "s3:GetObjectVersion"}
"""Permissions that are not an API operation of their service (GetObjectVersion: a
GetObject of a given version, which CloudFormation makes when the Code names one)."""


def policy() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(POLICY.read_text())
    return document


def allows(document: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an Allow statement matches (IAM: actions case-insensitive, resources with
    ``*`` and ``?`` wildcards that also span ``:`` and ``/``)."""
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions = _listify(statement["Action"])
        resources = _listify(statement["Resource"])
        if any(fnmatch.fnmatch(action.lower(), a.lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


def _listify(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_every_resource_type_of_the_provider_template_is_covered() -> None:
    types = {r["Type"] for r in load_template(PROVIDER)["Resources"].values()}
    unknown = types - set(NEEDS)
    assert not unknown, f"add what deploying {sorted(unknown)} needs to NEEDS and the policy"


@pytest.mark.parametrize("resource_type", sorted(NEEDS))
def test_the_policy_allows_what_each_resource_type_needs(resource_type: str) -> None:
    document = policy()
    missing = [
        (action, resource)
        for actions, resources in NEEDS[resource_type]
        for action in actions
        for resource in resources
        if not allows(document, action, resource)
    ]
    assert not missing, missing


def test_the_policy_allows_deploying_updating_and_deleting_the_stack() -> None:
    document = policy()
    assert all(allows(document, action, STACK_ARN) for action in STACK_ACTIONS)
    assert all(allows(document, action, PACKAGE_ARN) for action in UPLOAD_ACTIONS)


def test_nothing_beyond_the_provider_stack_and_its_own_resources() -> None:
    document = policy()
    others = [
        ("cloudformation:DeleteStack", f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/prod/1"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Administrator"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/Administrator"),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments"),
        ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/payments"),
        ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing"),
        ("s3:PutObject", "arn:aws:s3:::my-artifacts/other-app/x.zip"),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/{STACK}-x"),
        ("lambda:InvokeFunction", FUNCTION_ARN),
    ]
    allowed = [(a, r) for a, r in others if allows(document, a, r)]
    assert not allowed, allowed


def test_no_wildcard_actions_and_pass_role_only_to_lambda() -> None:
    statements = policy()["Statement"]
    actions = [a for s in statements for a in _listify(s["Action"])]
    assert not [a for a in actions if "*" in a or "?" in a]
    assert len(actions) == len(set(actions)), "an action listed twice"
    [pass_role] = [s for s in statements if "iam:PassRole" in _listify(s["Action"])]
    assert _listify(pass_role["Action"]) == ["iam:PassRole"]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }


def test_every_action_names_an_operation_of_its_service() -> None:
    """A misspelt action is silently useless in IAM: check each against botocore's models."""
    session = botocore.session.get_session()
    prefixes = {"cloudwatch": "cloudwatch", "logs": "logs", "lambda": "lambda", "iam": "iam"}
    prefixes |= {"cloudformation": "cloudformation", "s3": "s3"}
    unknown = []
    for statement in policy()["Statement"]:
        for action in _listify(statement["Action"]):
            if action in IAM_ONLY:
                continue
            prefix, operation = action.split(":")
            names = session.get_service_model(prefixes[prefix]).operation_names
            if operation not in names:
                unknown.append(action)
    assert not unknown, unknown
