"""make gradescope: the bundle's layout, run_autograder in a simulated /autograder for good and bad uploads, what
students read there, and make gradescope-trial end to end, setup.sh included."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import pytest
from test_report import GRADESCOPE_SCHEMA

from grader import course
from grader.classroom import gradescope, gradescope_trial
from grader.report import to_gradescope
from grader.report.gradescope_json import not_graded
from grader.results import CheckResult, GradeReport, Status
from grader.table import BY_ID, CHECKS, STUBS

ROOT = Path(__file__).resolve().parent.parent
GPU = "train_ch3/gpu"
# What students must never read: the sandbox's details (the words of its report lines) and temporary paths.
SANDBOX_WORDS = re.compile(r"sandbox|bubblewrap|namespace|seccomp|cgroup|control group|\buid\b|process limit|"
                           r"worker limits", re.IGNORECASE)
TEMPORARY = re.compile(r"/tmp/|d2l-gradescope-|d2l-notebook-|pytest-of-")


@pytest.fixture(scope="module")
def built(tmp_path_factory, fashion_mnist):
    """`make gradescope`'s zip (in English), in a temporary folder, and what the command printed."""
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "grader.classroom.gradescope", "build", "--out", str(out),
                          "--lang", "en"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return out / "autograder.zip", run.stdout


@pytest.fixture(scope="module")
def bundle(built):
    return built[0]


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
    (root / "stdout").write_text(run.stdout)
    return json.loads((root / "results" / "results.json").read_text())


def solutions(prefix=""):
    return {f"{prefix}{stub}.py": (ROOT / "solutions" / f"{stub}.py").read_text() for stub in STUBS}


def student_texts(results):
    """Everything of results.json that students read: the output, and each test's name and output."""
    return [results["output"], *(part for test in results["tests"] for part in (test["name"], test["output"]))]


def assert_nothing_internal(results):
    for text in student_texts(results):
        assert not SANDBOX_WORDS.search(text), text
        assert not TEMPORARY.search(text), text


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


def test_the_bundle_carries_the_course_settings_and_make_gradescope_says_what_total_to_set(built):
    bundle, printed = built
    with zipfile.ZipFile(bundle) as archive:
        assert archive.read("kit/grader/course.json").decode() == course.json_text(course.load())
        assert json.loads(archive.read("kit/grader/messages/release.json")) == {"language": "en"}
        assert len([name for name in archive.namelist() if name == "kit/grader/course.json"]) == 1
    assert course.load().gpu == "optional"   # the suite's own settings: the defaults
    assert "Set the assignment's total to 95 points on Gradescope" in printed


def test_the_total_to_set_follows_the_gpu_setting():
    totals = {gpu: gradescope.full_marks(course.CourseSettings(gpu)) for gpu in course.GPU_CHOICES}
    assert totals == {"optional": 95, "required": 100, "left-out": 95}
    assert "to 100 points" in gradescope.instructor_total(course.CourseSettings("required"))


def test_a_correct_upload_in_a_folder_earns_full_marks_in_valid_results(bundle, tmp_path):
    results = autograder(tmp_path, bundle, solutions("exercises/"))
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == results["max_score"] == 95 == gradescope.full_marks(course.load())
    hidden = {test["name"].split()[0] for test in results["tests"] if test["visibility"] == "after_published"}
    assert hidden == {check.id for check in CHECKS if check.hidden} - {GPU}   # no GPU here: the GPU check is a line
    assert all(test["status"] == "passed" for test in results["tests"])
    assert "Not run here, so it counts for nothing: the GPU check of train_ch3" in results["output"].splitlines()
    assert_nothing_internal(results)
    printed = (tmp_path / "autograder" / "stdout").read_text()
    assert "- sandbox: " in printed and "- user: " in printed   # for the instructor, in the autograder's output


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
    assert_nothing_internal(results)


def assert_not_graded(results):
    """Results that say the upload was not graded: 0 points out of full marks, nothing that reads as a crash."""
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 0 and results["max_score"] == 95 and results["tests"] == []
    assert "Total: 0 / 95 (0%)" in results["output"]
    for words in ("autograder failed", "grader error", "crashed", "0 / 0", "Traceback"):
        assert words not in results["output"], results["output"]
    assert_nothing_internal(results)


def test_an_upload_without_exercise_files_gets_results_that_say_what_to_upload(bundle, tmp_path):
    results = autograder(tmp_path, bundle, {"notes.txt": "my answers are in my head"})
    assert_not_graded(results)
    first = results["output"].splitlines()[0]
    assert first.startswith("No exercise files were found in your submission, so nothing was graded. Upload your "
                            "exercise modules (accuracy.py, cross_entropy.py, ")
    assert "or your notebooks (.ipynb)" in first and first.endswith("Your upload holds: notes.txt.")


def test_an_upload_with_a_file_too_large_says_so_and_what_to_upload(bundle, tmp_path):
    upload = solutions()
    upload["softmax.py"] += "#" * (1 << 20)
    results = autograder(tmp_path, bundle, upload)
    assert_not_graded(results)
    assert results["output"].startswith("softmax.py is larger than 1 MiB, so nothing was graded. Upload only your "
                                        "exercise modules (accuracy.py, ")


def test_a_notebook_without_answers_is_not_graded_and_no_temporary_path_shows(bundle, tmp_path):
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    results = autograder(tmp_path, bundle, {"linear_regression.ipynb": json.dumps(notebook)})
    assert_not_graded(results)
    assert results["output"].startswith("Your submission could not be graded: ")
    assert "linear_regression.ipynb" in results["output"] or "submission" in results["output"]


def test_no_temporary_path_shows_whatever_the_text_names():
    work = Path("/tmp/d2l-gradescope-abc123")
    data = {"output": f"notebook {work}/submission/a.ipynb has no cells, in {work}; /tmp/d2l-notebook-x/softmax.py",
            "tests": [{"name": "softmax/value x", "output": f"no verdicts.json at {work}/report/verdicts.json"}]}
    shown = gradescope.for_students(data, work)
    assert shown["output"] == "notebook a.ipynb has no cells, in …; softmax.py"
    assert shown["tests"][0]["output"] == "no verdicts.json at verdicts.json"


def check(check_id, status, points, max_points, detail=""):
    known = BY_ID[check_id]
    return CheckResult(check_id, known.title, known.hidden, status, points, max_points, known.hint, detail)


def test_a_check_that_could_not_run_and_counts_for_nothing_is_a_line_never_a_failed_test():
    checks = (check("softmax/value", Status.PASSED, 4, 4),
              check(GPU, Status.NOT_RUN, 0, 0, "not run here: no CUDA GPU was used for this run"))
    environment = {"sandbox": "bubblewrap: PID, network", "user": "uid 64200", "control group": "cgroup v2"}
    report = GradeReport("submission", 1, "cpu", checks, 2.0, environment=environment)
    results = to_gradescope(report)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert [test["name"].split()[0] for test in results["tests"]] == ["softmax/value"]
    assert results["score"] == results["max_score"] == 4
    assert results["output"].splitlines()[2] == "Not run here, so it counts for nothing: the GPU check of train_ch3"
    assert_nothing_internal(results)


def test_a_required_check_that_could_not_run_stays_a_failed_test_worth_nothing_of_its_points():
    why = "not run here: no CUDA GPU was used for this run; this course requires the GPU check"
    checks = (check("softmax/value", Status.PASSED, 4, 4), check(GPU, Status.NOT_RUN, 0, 5, why))
    results = to_gradescope(GradeReport("submission", 1, "cpu", checks, 2.0))
    [gpu] = [test for test in results["tests"] if test["name"].startswith(GPU)]
    assert gpu["status"] == "failed" and gpu["score"] == 0 and gpu["max_score"] == 5 and why in gpu["output"]
    assert results["score"] == 4 and results["max_score"] == 9 and "counts for nothing" not in results["output"]


def test_results_of_an_upload_not_graded_say_why_out_of_full_marks():
    results = not_graded("Upload your files.", 95, 1.2)
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["output"] == "Upload your files.\n\nTotal: 0 / 95 (0%)"
    assert (results["score"], results["max_score"], results["execution_time"], results["tests"]) == (0, 95, 2, [])


def test_results_are_written_even_when_the_grader_cannot_start(bundle, tmp_path):
    results = autograder(tmp_path, bundle, solutions(), python=tmp_path / "no-python-here")
    assert results["score"] == 0 and "could not start" in results["output"] and results["tests"] == []


def test_an_upload_is_laid_out_as_gradescope_does_from_a_folder_a_zip_or_one_file(tmp_path):
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "softmax.py").write_text("x = 1\n")
    with zipfile.ZipFile(tmp_path / "upload.zip", "w") as archive:
        archive.writestr("work/softmax.py", "x = 1\n")
    (tmp_path / "softmax_regression.ipynb").write_text("{}")
    for source, expected in ((folder, "sub/softmax.py"), (tmp_path / "upload.zip", "work/softmax.py"),
                             (tmp_path / "softmax_regression.ipynb", "softmax_regression.ipynb")):
        target = tmp_path / f"laid-{source.name}"
        gradescope_trial.put_submission(source, target)
        assert [path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()] == [expected]
    with pytest.raises(gradescope_trial.TrialError, match="no folder, .zip, .ipynb or .py file"):
        gradescope_trial.put_submission(tmp_path / "upload.zip.txt", tmp_path / "never")


def test_setup_sh_as_another_user_names_what_is_missing_in_one_line_and_stops():
    """A PATH without bubblewrap, as an unprivileged user: one line that says what to install, and exit 1."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and not setpriv:
        pytest.skip("running as root without setpriv to become another user")
    as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="setup-sh-"))   # readable by that user, unlike pytest's folders
    try:
        folder.chmod(0o755)
        (folder / "kit").mkdir()
        (folder / "kit" / "Makefile").write_text("setup:\n\t@echo never run\n")
        shutil.copy(ROOT / "grader" / "classroom" / "bundle" / "setup.sh", folder / "setup.sh")
        tools = folder / "bin"
        tools.mkdir()
        for tool in ("bash", "dirname", "id", "make", "python3"):
            found = next((path for path in (f"/usr/bin/{tool}", f"/bin/{tool}") if os.access(path, os.X_OK)),
                         shutil.which(tool))
            (tools / tool).symlink_to(found)
        run = subprocess.run([*as_user, str(tools / "bash"), str(folder / "setup.sh")], env={"PATH": str(tools)},
                             capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(folder)
    assert run.returncode == 1 and "never run" not in run.stdout, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("setup.sh: missing ") and "bubblewrap" in lines[0], run.stderr
    assert "apt-get install -y " in lines[0] and "setup.sh again" in lines[0]


def test_make_gradescope_trial_builds_the_zip_then_runs_the_trial_on_the_submission():
    run = subprocess.run(["make", "-n", "gradescope-trial", "SUBMISSION=some/upload.zip", "TRIAL_ROOT=/tmp/ag"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    build, trial = (line for line in run.stdout.splitlines() if "grader.classroom.gradescope" in line)
    assert " build --out dist/gradescope" in build
    assert trial.endswith('trial "some/upload.zip" --zip dist/gradescope/autograder.zip --root "/tmp/ag"')


@pytest.mark.slow
def test_the_trial_runs_setup_and_the_autograder_as_gradescope_would_and_the_solutions_earn_full_marks(built,
                                                                                                       tmp_path):
    """setup.sh from a root of the trial's (a new .venv of the kit, the data check), then run_autograder on the
    book's solutions: full marks, the total make gradescope asks for, and a summary of the results."""
    bundle, printed = built
    root = tmp_path / "autograder"
    run = subprocess.run([sys.executable, "-m", "grader.classroom.gradescope_trial", str(ROOT / "solutions"),
                          "--zip", str(bundle), "--root", str(root)], cwd=ROOT, capture_output=True, text=True,
                         timeout=1500)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    out = run.stdout
    assert out.startswith(f"Simulated /autograder: {root}\n")
    assert "apt is not needed" in out or os.geteuid() != 0   # as root here, with every package present
    assert "Fashion-MNIST ready" in out and (root / "source" / "kit" / ".venv" / "bin" / "python").exists()
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == results["max_score"] == 95
    assert re.search(r"Set the assignment's total to 95 points", printed) and "total to 95 points" in out
    assert "Score: 95 / 95\n" in out and f"Results: {root / 'results' / 'results.json'}" in out
    assert "Not run here, so it counts for nothing: the GPU check of train_ch3" in out
    assert re.search(r"✓ passed +4 / 4  softmax/value row-wise softmax", out)
    assert len(re.findall(r"^  ✓ passed ", out, re.MULTILINE)) == len(results["tests"]) == len(CHECKS) - 1
    assert json.loads((root / "submission_metadata.json").read_text())["id"]
    assert sorted(path.name for path in (root / "submission").iterdir() if path.suffix == ".py") == \
        sorted(["__init__.py", *(f"{stub}.py" for stub in STUBS)])
    assert "- sandbox: " in (root / "autograder_output.txt").read_text()
    assert_nothing_internal(results)
