"""Course settings: the GPU check required, optional or left out; the reference solution after the deadline; the
instructor's own nbgrader_config.py kept across releases; released notebooks that run where students open them."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader import course
from grader.notebook import source_of
from grader.reference import reference
from grader.release.settings_file import write_template

ROOT = Path(__file__).resolve().parent.parent
CUDA = torch.cuda.is_available()


def settings_file(tmp_path, text):
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


def grade(submission, out, settings, *only):
    """``python -m grader`` with the course settings in ``settings``; its completed process."""
    env = {**os.environ, course.ENV: str(settings)}
    return subprocess.run([sys.executable, "-m", "grader", str(submission), "--out", str(out), "--color", "never",
                           *(["--only", ",".join(only)] if only else [])],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def verdicts(out):
    return json.loads((out / "verdicts.json").read_text(encoding="utf-8"))


def test_the_template_holds_the_defaults_and_is_never_written_over(tmp_path):
    path = tmp_path / "course.toml"
    assert write_template(path) and course.read(path) == course.CourseSettings()
    path.write_text('gpu = "required"\n', encoding="utf-8")
    assert not write_template(path)
    assert path.read_text(encoding="utf-8") == 'gpu = "required"\n'


@pytest.mark.parametrize("text, words", [
    ('gpu = "sometimes"\n', "'sometimes' is none of 'required', 'optional', 'left-out'"),
    ('gpus = "optional"\n', "unknown setting gpus"),
    ('reference_after = "next friday"\n', "reference_after must be a date and time"),
    ('gpu = optional\n', "is not valid TOML"),
])
def test_a_settings_file_that_cannot_be_used_stops_the_grader_with_its_name_and_the_fix(tmp_path, text, words):
    path = settings_file(tmp_path, text)
    run = grade(ROOT / "exercises", tmp_path / "out", path, "softmax")
    assert run.returncode == 2 and words in run.stderr and str(path) in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("choice", course.GPU_CHOICES)
def test_the_gpu_check_counts_as_the_course_says(tmp_path, choice):
    out = tmp_path / "out"
    run = grade(ROOT / "exercises", out, settings_file(tmp_path, f'gpu = "{choice}"\n'), "train_ch3/gpu")
    assert run.returncode == 0, run.stdout + run.stderr
    gpu = verdicts(out)["checks"]["train_ch3/gpu"]
    counts = choice == "required" or (choice == "optional" and CUDA)
    assert gpu["max_points"] == (5 if counts else 0) and verdicts(out)["max_score"] == gpu["max_points"]
    if choice == "left-out":
        assert gpu["status"] == "not run" and "left out by this course" in gpu["detail"]
    elif not CUDA:
        assert gpu["status"] == "not run" and gpu["points"] == 0
        assert ("requires the GPU check" in gpu["detail"]) == (choice == "required")


def test_failed_checks_show_the_reference_solution_only_after_the_deadline(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    (before / "s").mkdir(parents=True)
    (after / "s").mkdir(parents=True)
    future = settings_file(before / "s", "reference_after = 2999-01-01T00:00:00+08:00\n")
    past = settings_file(after / "s", "reference_after = 2020-01-01T00:00:00+08:00\n")
    assert grade(ROOT / "exercises", before / "out", future, "softmax").returncode == 0
    assert grade(ROOT / "exercises", after / "out", past, "softmax").returncode == 0
    code = reference("softmax")
    assert "def softmax(X):" in code and "keepdim=True" in code and "### " not in code
    for name in ("verdicts.json", "results.json", "report.md", "report.html"):
        assert "keepdim=True" not in (before / "out" / name).read_text(encoding="utf-8"), name
    shown = verdicts(after / "out")["checks"]["softmax/value"]
    assert shown["status"] == "failed" and shown["reference"] == code
    results = json.loads((after / "out" / "results.json").read_text(encoding="utf-8"))
    assert any(code in test["output"] for test in results["tests"])
    assert "The reference solution of softmax" in (after / "out" / "report.md").read_text(encoding="utf-8")
    assert "X_exp / X_exp.sum(dim=1, keepdim=True)" in (after / "out" / "report.html").read_text(encoding="utf-8")


def test_a_handout_never_shows_a_reference_solution(released, tmp_path):
    student = released / "dist" / "student"
    assert not (student / "solutions").exists()
    assert json.loads((student / "grader" / "course.json").read_text()) == {"gpu": "optional", "reference_after": None}
    past = settings_file(tmp_path, "reference_after = 2020-01-01T00:00:00+08:00\n")
    run = subprocess.run([sys.executable, "-m", "grader", "exercises", "--out", str(tmp_path / "out"), "--only",
                          "softmax"], cwd=student, env={**os.environ, course.ENV: str(past)},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert all("reference" not in check for check in verdicts(tmp_path / "out")["checks"].values())


def release(where, *extra):
    return subprocess.run([sys.executable, "-m", "grader.release", "--student", str(where / "dist" / "student"),
                           "--course", str(where / "course"), "--settings", str(where / "course.toml"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_instructors_nbgrader_config_and_course_settings_survive_a_release(tmp_path):
    first = release(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    config, kit_config = tmp_path / "course" / "nbgrader_config.py", tmp_path / "course" / "kit_config.py"
    assert "written now" in first.stdout and 'gpu = "optional"' in first.stdout
    assert f"notebooks are worth {100 if CUDA else 95}" in first.stdout
    config.write_text(config.read_text() + 'c.Exchange.timezone = "Asia/Shanghai"\n')
    (tmp_path / "course.toml").write_text('gpu = "left-out"\n')
    again = release(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert config.read_text().endswith('c.Exchange.timezone = "Asia/Shanghai"\n')
    assert (tmp_path / "course.toml").read_text() == 'gpu = "left-out"\n'
    assert "nbhooks.autograde_preprocessors()" in kit_config.read_text()
    assert 'gpu = "left-out"; full marks are 95 everywhere' in again.stdout
    release_dir = tmp_path / "course" / "release" / "ch3"
    assert "train_ch3/gpu" not in json.dumps(json.loads((release_dir / "softmax_regression.ipynb").read_text()))
    assert json.loads((tmp_path / "dist" / "student" / "grader" / "course.json").read_text())["gpu"] == "left-out"
    loaded = subprocess.run([sys.executable, "-c", LOAD, str(config.parent)], capture_output=True, text=True,
                            timeout=120)   # the config sets D2L_KIT_ROOT: never in the suite's own process
    assert loaded.stdout.split() == ["Asia/Shanghai", "d2l-linear", "IsolatedVerdicts"], loaded.stderr


LOAD = """import sys
from traitlets.config.loader import PyFileConfigLoader
loaded = PyFileConfigLoader("nbgrader_config.py", sys.argv[1]).load_config()
names = [p.__name__ for p in loaded.Autograde.autograde_preprocessors]
print(loaded.Exchange.timezone, loaded.CourseDirectory.course_id, *[n for n in names if n == "IsolatedVerdicts"])
"""


def test_a_course_released_by_an_older_kit_keeps_an_edited_config_and_replaces_an_untouched_one(tmp_path):
    from grader.release import notebooks
    from grader.release.sync import MANIFEST, sync
    for edited in (False, True):
        where = tmp_path / str(edited)
        old = notebooks.CONFIG.format(kit=str(ROOT), course_id="d2l-linear", language="en")
        sync(where / "course", {"nbgrader_config.py": old.encode()}, where / "course" / MANIFEST)
        if edited:
            (where / "course" / "nbgrader_config.py").write_text(old + "c.Exchange.root = '/srv/x'\n")
        run = release(where)
        assert run.returncode == 0, run.stdout + run.stderr
        text = (where / "course" / "nbgrader_config.py").read_text()
        assert (text.endswith("c.Exchange.root = '/srv/x'\n") and "kept" in run.stdout) if edited else \
            text == notebooks.INSTRUCTOR_CONFIG
        assert "nbgrader_config.py" not in json.loads((where / "course" / MANIFEST).read_text())


def execute(notebook):
    """Run every cell of ``notebook`` in a kernel, in the notebook's folder, as a student would; its cells."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return {cell.get("id"): cell for cell in nb.cells}


def shown(cell):
    """What a cell showed: its printed text and its error's message."""
    return "".join(out.get("text", "") + out.get("evalue", "") for out in cell.get("outputs", []))


@pytest.mark.nbgrader
def test_a_released_notebook_runs_its_public_checks_in_its_release_folder_and_says_what_is_missing_alone(
        released, tmp_path):
    where = tmp_path / "release"
    shutil.copytree(released / "course" / "release" / "ch3", where)
    notebook = where / "linear_regression.ipynb"
    answers = {cell["metadata"]["nbgrader"]["grade_id"]: source_of(cell) for cell in json.loads(
        (released / "course" / "source" / "ch3" / notebook.name).read_text())["cells"]
        if cell["metadata"].get("nbgrader", {}).get("solution")}
    data = json.loads(notebook.read_text())
    for cell in data["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers and grade_id != "sgd":
            cell["source"] = answers[grade_id]
    notebook.write_text(json.dumps(data))
    cells = execute(notebook)
    assert "✓ synthetic_data/shape" in shown(cells["check-synthetic_data-shape"])
    assert "✓ data_iter/coverage" in shown(cells["check-data_iter-coverage"])
    failed = shown(cells["check-sgd-update"])
    assert "✗ sgd/update" in failed and "Not implemented yet" in failed
    alone = tmp_path / "alone" / notebook.name
    alone.parent.mkdir()
    shutil.copy(notebook, alone)
    cells = execute(alone)
    assert "grader/ and datasets/" in shown(cells["setup"])
    assert "The kit's grader was not found" in shown(cells["check-synthetic_data-shape"])


@pytest.mark.data
def test_after_the_deadline_a_gradescope_bundle_carries_the_solutions_and_its_results_show_them(
        fashion_mnist, tmp_path, monkeypatch):
    import zipfile

    from test_gradescope import autograder

    from grader.classroom import gradescope
    past = course.read(settings_file(tmp_path, "reference_after = 2020-01-01T00:00:00+08:00\n"))
    bundle = gradescope.build(tmp_path / "dist", "en", past)
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert json.loads(archive.read("kit/grader/course.json"))["reference_after"].startswith("2020-01-01")
    assert "kit/solutions/softmax.py" in names
    monkeypatch.delenv(course.ENV)   # the bundle's own course.json decides, as on Gradescope
    stubs = {path.name: path.read_text() for path in (ROOT / "exercises").glob("*.py") if path.name != "__init__.py"}
    results = autograder(tmp_path, bundle, stubs)
    softmax = next(test for test in results["tests"] if test["name"].startswith("softmax/value"))
    assert "The reference solution of softmax" in softmax["output"] and reference("softmax") in softmax["output"]
    plain = gradescope.build(tmp_path / "plain", "en", course.CourseSettings())
    with zipfile.ZipFile(plain) as archive:
        assert not any(name.startswith("kit/solutions/") for name in archive.namelist())


def test_a_kernel_without_pytest_is_told_the_one_line_to_install_it(monkeypatch):
    import importlib.util

    from grader import cells
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pytest" else real(name, *a))
    with pytest.raises(cells.CheckFailed, match="%pip install pytest"):
        cells.Checks("softmax_regression").verdict("softmax/value")
