"""The provider's own files, wherever this package runs from.

Installed from a wheel, they travel inside it (``_provider/``: the handler package, the
package builder, the pinned requirements and ``template/provider.yaml``, copied when the
wheel is built); in a checkout of the repository they are the repository's own. Either way
the layout is the same, so the synth-time checks run the handler's own
``parse_properties`` and ``parse_wait_for``, and the function code is the package
``make build`` makes: nothing here is a second copy that could drift.
"""

from __future__ import annotations

import functools
import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

_PACKAGED = Path(__file__).resolve().parent / "_provider"
_CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGED = (_PACKAGED / "template" / "provider.yaml").is_file()
ROOT = _PACKAGED if PACKAGED else _CHECKOUT
"""Holds ``custom_resource/``, ``release/``, ``requirements.txt`` and ``template/``."""
TEMPLATE = ROOT / "template" / "provider.yaml"
ZIP_NAME = "wait-for-certificate.zip"


def _module(name: str) -> ModuleType:
    """``name`` from the provider's files: this package's copy, or the checkout's own."""
    if PACKAGED:
        return importlib.import_module(f"{__package__}._provider.{name}")
    if str(ROOT) not in sys.path:  # a CDK app run from the checkout without installing
        sys.path.append(str(ROOT))
    return importlib.import_module(name)


if TYPE_CHECKING:
    from custom_resource import version
    from custom_resource.certificates import properties
    from custom_resource.waiters import waiter_properties
    from release import build_zip
else:
    properties = _module("custom_resource.certificates.properties")
    version = _module("custom_resource.version")
    waiter_properties = _module("custom_resource.waiters.waiter_properties")
    build_zip = _module("release.build_zip")

_BUILD_DIR = tempfile.TemporaryDirectory(prefix="wait-for-certificate-cdk-")
"""Where the function package and the providers' templates are written (removed at exit:
by then the CDK has read them, and copied the package into the cloud assembly)."""
BUILD_DIR = Path(_BUILD_DIR.name)


@functools.cache
def function_zip() -> Path:
    """The function package, built as ``make build`` builds it (reproducible, so its asset
    hash only changes when the code does), from the requirements installed here."""
    output = BUILD_DIR / ZIP_NAME
    return build_zip.build(output, from_environment=True, root=ROOT)


__all__ = [
    "BUILD_DIR",
    "PACKAGED",
    "ROOT",
    "TEMPLATE",
    "build_zip",
    "function_zip",
    "properties",
    "version",
    "waiter_properties",
]
