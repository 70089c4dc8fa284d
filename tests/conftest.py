"""Shared fixtures of the kit's test suite."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# test_checks.py grades the reference solutions in the kit's own suite (a student's copy grades exercises/).
os.environ.setdefault("D2L_KIT_SUBMISSION", str(ROOT / "solutions"))
# The suite reads the English texts whatever the machine's locale; the tests of other languages ask for them.
os.environ["D2L_KIT_LANG"] = "en"


@pytest.fixture(scope="session")
def fashion_mnist():
    """The torchvision root of the verified real Fashion-MNIST; skips locally, fails in CI, when absent."""
    from datasets import DatasetUnavailable, locate_fashion_mnist
    try:
        return locate_fashion_mnist()
    except DatasetUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"Fashion-MNIST is required in CI:\n{error}")
        pytest.skip(f"Fashion-MNIST unavailable:\n{error}")


@pytest.fixture(scope="session")
def released(tmp_path_factory):
    """The handout and the nbgrader course, built once by the release command into a temporary folder."""
    where = tmp_path_factory.mktemp("release")
    run = subprocess.run([sys.executable, "-m", "grader.release", "--student", str(where / "dist" / "student"),
                          "--course", str(where / "course")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return where
