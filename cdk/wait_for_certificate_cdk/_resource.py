"""What both constructs do once their properties are checked: pick the provider (the
stack's own, shared, or a given ServiceToken) and add the custom resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CustomResource, Duration
from constructs import Construct

from ._values import as_sent
from .provider import WaitForCertificateProvider


class ProviderResource(Construct):
    """A construct holding one custom resource of the provider."""

    provider: WaitForCertificateProvider | None
    """The included provider this resource uses (None with ``service_token``)."""
    service_token: str
    """The ServiceToken this resource is sent to."""
    resource: CustomResource
    """The custom resource itself."""

    def _add_resource(
        self,
        resource_type: str,
        raw: Mapping[str, Any],
        *,
        service_token: str | None,
        provider: WaitForCertificateProvider | None,
        service_timeout: Duration | None,
    ) -> None:
        if service_token is not None and provider is not None:
            raise ValueError("give service_token or provider, not both")
        self.provider = None
        if service_token is None:
            self.provider = provider or WaitForCertificateProvider.of(self)
            service_token = self.provider.service_token
        self.service_token = service_token
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.service_token,
            resource_type=resource_type,
            service_timeout=service_timeout,
            properties={k: as_sent(v) for k, v in raw.items()},
        )
