"""WaitForCertificate: a CloudFormation custom resource that waits for an ACM certificate,
and (``Custom::WaitFor``) for any condition a botocore waiter describes.

The Lambda entry point is ``custom_resource.handler.handler``; the last-resort responder
(the on-failure destination of its asynchronous invocations) is
``custom_resource.responder.handler``.
"""
