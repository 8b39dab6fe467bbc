"""cfn-lint rules for templates that use the provider's custom resources.

Load them with cfn-lint's own extension option, ``cfn-lint -a wait_for_certificate_lint
template.yaml`` (or ``append_rules`` in ``.cfnlintrc``): cfn-lint instantiates every rule
class this package exposes. docs/template-checks.md describes each rule.
"""

from .rules import InvalidValue, MissingProperty, UnknownAttribute, UnknownProperty, UnknownRegion

__all__ = [
    "InvalidValue",
    "MissingProperty",
    "UnknownAttribute",
    "UnknownProperty",
    "UnknownRegion",
]
