"""cdk/example/app.py, the app docs/cdk.md shows, synthesizes: one stack, no extra step."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

EXAMPLE = Path(__file__).resolve().parents[2] / "cdk" / "example" / "app.py"


def test_example_app_synthesizes_a_cloudfront_site_with_its_certificate() -> None:
    spec = importlib.util.spec_from_file_location("example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = cdk.App()
    stack = module.SiteStack(
        app,
        "Example",
        domain="www.example.com",
        zone_id="Z0123456789ABCDEFGHIJ",
        zone_name="example.com",
        env=cdk.Environment(account="123456789012", region="eu-west-1"),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("Custom::WaitForCertificate", 1)
    template.resource_count_is("AWS::CloudFront::Distribution", 1)
    template.has_resource_properties(
        "Custom::WaitForCertificate", {"DomainName": "www.example.com", "Region": "us-east-1"}
    )
