"""A complete CDK app: a static site in eu-west-1 behind CloudFront, with its us-east-1
certificate validated through Route 53, in one stack and one deployment.

    pip install -r requirements.txt        # this construct library, pinned to a release
    cdk deploy -c domain=www.example.com -c zone_id=Z0123456789ABC -c zone_name=example.com
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct
from wait_for_certificate_cdk import WaitForCertificate


class SiteStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id: str, *, domain: str, zone_id: str, zone_name: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=zone_id, zone_name=zone_name
        )
        # The first WaitForCertificate of the stack brings the provider along.
        cert = WaitForCertificate(
            self,
            "SiteCert",
            domain_name=domain,
            hosted_zone=zone,
            region="us-east-1",  # CloudFront only takes us-east-1 certificates
            service_timeout=cdk.Duration.hours(1),
        )
        bucket = s3.Bucket(
            self,
            "Content",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
        )
        distribution = cloudfront.Distribution(
            self,
            "Site",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            ),
            default_root_object="index.html",
            certificate=cert.certificate,
            domain_names=[domain],
        )
        route53.ARecord(
            self,
            "Alias",
            zone=zone,
            record_name=domain,
            target=route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution)),
        )
        cdk.CfnOutput(self, "CertificateArn", value=cert.certificate_arn)
        cdk.CfnOutput(self, "Url", value=f"https://{domain}/")


def main() -> None:
    app = cdk.App()
    SiteStack(
        app,
        "WaitForCertificateExample",
        domain=app.node.try_get_context("domain") or "www.example.com",
        zone_id=app.node.try_get_context("zone_id") or "Z0123456789ABCDEFGHIJ",
        zone_name=app.node.try_get_context("zone_name") or "example.com",
        env=cdk.Environment(region=app.node.try_get_context("region") or "eu-west-1"),
    )
    app.synth()


if __name__ == "__main__":
    main()
