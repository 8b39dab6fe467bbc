"""The CDK construct's tests: they run in .venv/cdk (`make test-cdk`), where aws-cdk-lib is.

In the main virtual environment there is no aws-cdk-lib, so this folder is skipped there.
Each module synthesizes its app once (a module-scoped fixture): the jsii runtime makes a
synthesis cost seconds, not milliseconds.
"""

from __future__ import annotations

import importlib.util
import os

if importlib.util.find_spec("aws_cdk") is None:
    collect_ignore_glob = ["test_*.py"]

# The CDK's built-in template validation takes half a minute per synthesis here; the tests
# run cfn-lint on the synthesized template instead.
os.environ.setdefault("CDK_VALIDATION", "false")
# Node.js 20 still runs the jsii runtime; its end-of-life banner is noise in test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
