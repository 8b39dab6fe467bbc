"""The construct's wheel: the provider's version, its pins, and the provider inside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("cdk", "custom_resource", "release", "template", "pyproject.toml")


def test_wheel_carries_the_provider_at_the_providers_version(tmp_path: Path) -> None:
    """Built offline from a copy of the repository (setup.py reads the files around cdk/)."""
    source = tmp_path / "repository"
    for name in COPIED:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copyfile
        copy(ROOT / name, source / name)
    for requirements in ROOT.glob("requirements*.txt"):
        shutil.copyfile(requirements, source / requirements.name)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--no-index", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    result = subprocess.run([*command, str(source / "cdk")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]

    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"Version: {version}" in lines
    pins = [line for line in (ROOT / "requirements-cdk.txt").read_text().splitlines()]
    for package in ("aws-cdk-lib", "constructs"):
        [pin] = [p for p in pins if p.startswith(f"{package}==")]
        assert f"Requires-Dist: {pin}" in lines
    provider = "wait_for_certificate_cdk/_provider/"
    for name in (
        "template/provider.yaml",
        "custom_resource/handler.py",
        "custom_resource/certificates/properties.py",
        "release/build_zip.py",
        "requirements.txt",
    ):
        assert provider + name in names, name
    assert not any("/tests/" in n or "/tools/" in n for n in names)
