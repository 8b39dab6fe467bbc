"""AWS CDK constructs for WaitForCertificate (Custom::WaitForCertificate).

``WaitForCertificate`` requests an ACM certificate in any Region, writes its DNS
validation records into Route 53 (in this account or another) and makes the stack wait
until it is ISSUED; ``WaitForCertificateProvider`` is the provider it brings along
(template/provider.yaml, with its code as an asset).
"""

from ._sources import properties
from .certificate import DomainValidationOption, WaitForCertificate, check_properties
from .provider import WaitForCertificateProvider

PropertyError = properties.PropertyError
"""Raised at synthesis for a value the provider would reject (the same message)."""

__all__ = [
    "DomainValidationOption",
    "PropertyError",
    "WaitForCertificate",
    "WaitForCertificateProvider",
    "check_properties",
]
