"""WaitForCertificate: a CloudFormation custom resource that waits for an ACM certificate.

The Lambda entry point is ``custom_resource.handler.handler``.
"""
