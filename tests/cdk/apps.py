"""The CDK apps the tests synthesize: what a user in another Region writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from wait_for_certificate_cdk import WaitForCertificate
from wait_for_certificate_cdk.provider import SERVICE_TOKEN_OUTPUT, SINGLETON_ID

ACCOUNT = "123456789012"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
DNS_ROLE = "arn:aws:iam::210987654321:role/dns-validation"


def new_stack(region: str = "eu-west-1") -> cdk.Stack:
    app = cdk.App()
    return cdk.Stack(app, "Site", env=cdk.Environment(account=ACCOUNT, region=region))


def template(stack: cdk.Stack) -> dict[str, Any]:
    app = stack.node.root
    assert isinstance(app, cdk.App)
    result: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return result


def cfn_lint(synthesized: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint on a synthesized template (written to ``path``), with the rules the
    project ships for its custom resources."""
    path.write_text(json.dumps(synthesized))
    rules = Path(__file__).resolve().parents[2] / "wait_for_certificate_lint"
    command = [str(Path(sys.executable).with_name("cfn-lint")), f"--append-rules={rules}"]
    return subprocess.run([*command, "--", str(path)], capture_output=True, text=True)


def service_token_output(synthesized: dict[str, Any]) -> Any:
    """The value of the included template's ServiceToken output: what certificates use."""
    [value] = [
        output["Value"]
        for name, output in synthesized["Outputs"].items()
        if name.startswith(f"{SINGLETON_ID}TemplateOutputs{SERVICE_TOKEN_OUTPUT}")
    ]
    return value


def site(stack: cdk.Stack, zone_id: str = ZONE_ID) -> dict[str, WaitForCertificate]:
    """A CloudFront site in ``stack`` with a us-east-1 certificate, and a second one whose
    zone is in another account: two certificates, one provider."""
    zone = route53.HostedZone.from_hosted_zone_attributes(
        stack, "Zone", hosted_zone_id=zone_id, zone_name="example.com"
    )
    site_cert = WaitForCertificate(
        stack,
        "SiteCert",
        domain_name="www.example.com",
        subject_alternative_names=["example.com"],
        hosted_zone=zone,
        region="us-east-1",
        service_timeout=cdk.Duration.hours(1),
        tags={"team": "web"},
    )
    api_cert = WaitForCertificate(
        stack,
        "ApiCert",
        domain_name="api.example.org",
        hosted_zone_id="Z9876543210ZYXWVUTSRQ",
        route53_role_arn=DNS_ROLE,
        region="us-east-1",
        remove_validation_records=True,
    )
    cloudfront.Distribution(
        stack,
        "Distribution",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin("origin.example.com")
        ),
        certificate=site_cert.certificate,
        domain_names=["www.example.com", "example.com"],
    )
    return {"site": site_cert, "api": api_cert}
