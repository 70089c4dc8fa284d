"""make gradescope: the bundle's layout, and run_autograder in a simulated /autograder for good and bad uploads."""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from test_report import GRADESCOPE_SCHEMA

from grader.table import CHECKS, STUBS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, fashion_mnist):
    """dist/gradescope/autograder.zip as `make gradescope` builds it, in a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "grader.classroom.gradescope", "build", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return out / "autograder.zip"


def autograder(tmp_path, bundle, upload, python=sys.executable):
    """Lay out /autograder as Gradescope does, put ``upload`` (name -> text) in, run it; return results.json."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    for name, text in upload.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, Path):
            path.symlink_to(text)
        else:
            path.write_text(text)
    (root / "submission").mkdir(exist_ok=True)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), D2L_KIT_PYTHON=str(python))
    run = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr
    return json.loads((root / "results" / "results.json").read_text())


def solutions(prefix=""):
    return {f"{prefix}{stub}.py": (ROOT / "solutions" / f"{stub}.py").read_text() for stub in STUBS}


def test_the_bundle_holds_the_scripts_at_its_root_the_grader_with_every_check_and_the_data(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) & 0o111, script
    assert {"kit/uv.lock", "kit/pyproject.toml", "kit/Makefile", "kit/grader/checks/pytest.ini"} <= set(infos)
    assert {f"kit/grader/checks/check_{stub}.py" for stub in STUBS} <= set(infos)
    assert sum(name.startswith("kit/data/fashion-mnist/") for name in infos) == 4
    assert not [name for name in infos if name.startswith(("kit/solutions", "kit/exercises", "kit/tests"))]
    assert stat.S_IMODE(infos["kit/.course-secret"].external_attr >> 16) == 0o600   # the seeds of official gradings
    syntax = subprocess.run(["bash", "-n", str(ROOT / "grader" / "classroom" / "bundle" / "setup.sh")])
    assert syntax.returncode == 0


def test_a_correct_upload_in_a_folder_earns_full_marks_in_valid_results(bundle, tmp_path):
    results = autograder(tmp_path, bundle, solutions("exercises/"))
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == results["max_score"] == 95
    hidden = {test["name"].split()[0] for test in results["tests"] if test["visibility"] == "after_published"}
    assert hidden == {check.id for check in CHECKS if check.hidden}


def test_a_broken_upload_is_graded_from_a_copy_of_its_exercise_files_only(bundle, tmp_path):
    upload = solutions()
    upload["softmax.py"] = "def softmax(X):\n    return (\n"
    upload["cross_entropy.py"] = "import os\nos._exit(3)\n"
    upload["accuracy.py"] = ROOT / "solutions" / "accuracy.py"  # a link out of the upload is never followed
    upload["helper.py"] = "raise SystemExit('never imported')\n"
    results = autograder(tmp_path, bundle, upload)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    by_stub = {}
    for test in results["tests"]:
        by_stub.setdefault(test["tags"][0], []).append(test)
    for stub in ("softmax", "cross_entropy", "accuracy"):
        assert all(test["score"] == 0 for test in by_stub[stub]), stub
    assert "SyntaxError" in by_stub["softmax"][0]["output"]
    assert "accuracy.py is missing" in by_stub["accuracy"][0]["output"]
    assert all(test["score"] == test["max_score"] for test in by_stub["sgd"])
    assert 0 < results["score"] < 95


def test_an_upload_without_exercise_files_gets_results_that_say_what_to_upload(bundle, tmp_path):
    results = autograder(tmp_path, bundle, {"notes.txt": "my answers are in my head"})
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 0 and "No exercise files" in results["output"] and "notes.txt" in results["output"]


def test_results_are_written_even_when_the_grader_cannot_start(bundle, tmp_path):
    results = autograder(tmp_path, bundle, solutions(), python=tmp_path / "no-python-here")
    assert results["score"] == 0 and "could not start" in results["output"] and results["tests"] == []
