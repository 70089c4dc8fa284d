"""Shared fixtures of the kit's test suite."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader import course
from grader.release import settings_file

ROOT = Path(__file__).resolve().parent.parent
# test_checks.py grades the reference solutions in the kit's own suite (a student's copy grades exercises/).
os.environ.setdefault("D2L_KIT_SUBMISSION", str(ROOT / "solutions"))
# The suite reads the English texts whatever the machine's locale; the tests of other languages ask for them.
os.environ["D2L_KIT_LANG"] = "en"
# The course's settings are the defaults, from a file of the suite's own: a release in a test never writes the kit's
# course.toml, and an instructor's course.toml in the checkout changes no test.
os.environ[course.ENV] = str(Path(tempfile.mkdtemp(prefix="d2l-course-")) / "course.toml")
settings_file.write_template(os.environ[course.ENV])


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
