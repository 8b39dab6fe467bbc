"""AWS CDK constructs for WaitForCertificate (Custom::WaitForCertificate).

``WaitForCertificate`` requests an ACM certificate in any Region, writes its DNS
validation records into Route 53 (in this account or another) and makes the stack wait
until it is ISSUED; ``WaitForCertificateProvider`` is the provider it brings along
(template/provider.yaml, with its code as an asset). ``WaitFor`` keeps the stack waiting
until any condition a botocore waiter describes holds (``Custom::WaitFor``), served by
the same provider.
"""

from ._sources import properties
from .certificate import DomainValidationOption, WaitForCertificate, check_properties
from .provider import WaitForCertificateProvider
from .wait_for import Acceptor, WaitFor, check_wait_for

PropertyError = properties.PropertyError
"""Raised at synthesis for a value the provider would reject (the same message)."""

__all__ = [
    "Acceptor",
    "DomainValidationOption",
    "PropertyError",
    "WaitFor",
    "WaitForCertificate",
    "WaitForCertificateProvider",
    "check_properties",
    "check_wait_for",
]
