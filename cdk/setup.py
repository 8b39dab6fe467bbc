"""Builds the wheel of wait-for-certificate-cdk (the metadata is in pyproject.toml).

Three things come from the repository around this folder, so that none is written twice:
- the version: the provider's, from the repository's pyproject.toml;
- the dependencies: aws-cdk-lib and constructs as requirements-cdk.txt pins them, the
  function's own requirements (requirements.txt) and what the synth-time checks import;
- the provider: the files of the function package (as release/build_zip.py selects
  them), the package builder and template/provider.yaml, copied into the wheel under
  wait_for_certificate_cdk/_provider/ with the repository's layout.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
CDK_PINS = ("aws-cdk-lib", "constructs")
SYNTH_IMPORTS = ("botocore>=1.34", "PyYAML>=6")
"""What the synth-time checks import: botocore's ACM model (the handler's validation
rules) and its service and waiter models (a WaitFor's names; jmespath comes with it),
PyYAML (template/provider.yaml)."""

sys.path.insert(0, str(ROOT))
from release import build_zip  # noqa: E402


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def dependencies() -> list[str]:
    lines = (ROOT / "requirements-cdk.txt").read_text().splitlines()
    pinned = [line.strip() for line in lines if line.startswith(tuple(f"{p}==" for p in CDK_PINS))]
    assert len(pinned) == len(CDK_PINS), f"requirements-cdk.txt must pin {CDK_PINS}"
    return [
        *pinned,
        *(f"{n}=={v}" for n, v in build_zip.pinned_requirements().items()),
        *SYNTH_IMPORTS,
    ]


def provider_files() -> dict[str, Path]:
    """Path inside _provider/ -> the repository's file."""
    files = dict(build_zip.package_files(ROOT))
    for name in ("release/__init__.py", "release/build_zip.py", "requirements.txt"):
        files[name] = ROOT / name
    files["template/provider.yaml"] = ROOT / "template" / "provider.yaml"
    return files


class BuildWithProvider(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "wait_for_certificate_cdk" / "_provider"
        shutil.rmtree(target, ignore_errors=True)
        for name, source in provider_files().items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)
        (target / "__init__.py").write_text('"""The provider this release includes."""\n')


setup(version=version(), install_requires=dependencies(), cmdclass={"build_py": BuildWithProvider})
