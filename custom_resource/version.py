"""Which release of the provider this code is, for the first log line of every invocation.

The version is written once, in ``pyproject.toml``. ``make release`` copies it into the
function package as ``custom_resource/VERSION``; a checkout (the tests, the local demo)
has no such file and reads ``pyproject.toml`` next to the package instead.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

VERSION_FILE = "VERSION"
"""The file the package build writes into ``custom_resource/``: the version, one line."""
UNKNOWN = "unknown"


@functools.cache
def provider_version(package: Path = Path(__file__).parent) -> str:
    """The release this code belongs to; ``unknown`` when neither source is there."""
    packaged = package / VERSION_FILE
    if packaged.is_file():
        return packaged.read_text().strip() or UNKNOWN
    project = package.parent / "pyproject.toml"
    try:
        version = tomllib.loads(project.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return UNKNOWN
    return str(version)


def running_version(context: object) -> str:
    """``1.0.0 (function version 7)``: the code's release and the Lambda version it runs as."""
    function_version = getattr(context, "function_version", None) or "$LATEST"
    return f"{provider_version()} (function version {function_version})"
