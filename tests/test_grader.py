"""The grader end to end: reference 100%, stubs 0, one buggy submission per check, faults stay local."""
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bugs import Bug
from grader.run import grade
from grader.table import CHECKS, STUBS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = [bug for path in sorted(Path(__file__).parent.glob("corpus_*.py"))
          for bug in importlib.import_module(path.stem).BUGS]


def submission(tmp_path, source=ROOT / "solutions"):
    """A copy of a folder of stub modules to grade."""
    target = tmp_path / "submission"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def patched(tmp_path, bug: Bug):
    """The reference solutions with one bug in one module."""
    folder = submission(tmp_path)
    path = folder / f"{bug.module}.py"
    text = path.read_text()
    assert text.count(bug.old) == 1, f"the patch of {bug.name} does not match solutions/{bug.module}.py once"
    path.write_text(text.replace(bug.old, bug.new))
    return folder


def verdicts(report):
    return {check.id: check for check in report.checks}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args, "--color", "never"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.data
def test_reference_solutions_earn_full_marks_on_cpu(fashion_mnist, tmp_path):
    run = run_cli(str(ROOT / "solutions"), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 95, results["output"]
    by_name = {test["name"].split(" ")[0]: test for test in results["tests"]}
    assert set(by_name) == {check.id for check in CHECKS} - {"train_ch3/gpu"}   # not run on cpu: a line, not a test
    assert "Not run here, so it counts for nothing: the GPU check of train_ch3" in results["output"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "data:image/png;base64," in html and (tmp_path / "out" / "curves.png").is_file()
    assert "Total: 95 / 95 (100%)" in run.stdout


def test_untouched_stubs_score_zero_without_the_grader_failing(tmp_path):
    run = run_cli(str(ROOT / "exercises"), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["score"] == 0
    ran = [test for test in results["tests"] if test["max_score"] > 0]
    assert len(ran) == len([c for c in CHECKS if c.points and "cuda" not in c.needs])
    assert all(test["status"] == "failed" for test in ran)
    needs_data = {check.id for check in CHECKS if "data" in check.needs}
    for test in ran:
        if test["name"].split(" ")[0] not in needs_data:
            assert "Not implemented yet" in test["output"], test["name"]


@pytest.mark.parametrize("bug", CORPUS, ids=lambda bug: bug.name)
def test_each_bug_fails_exactly_its_checks_with_its_evidence(bug, tmp_path, request):
    if bug.module == "train_ch3" or bug.check_id.startswith("train_ch3/"):
        request.getfixturevalue("fashion_mnist")
    report = grade(patched(tmp_path, bug), seed=0, device="cpu", only=[bug.module])
    found = verdicts(report)
    failed = {check_id for check_id, result in found.items() if result.status == "failed"}
    assert failed == set(bug.fails), {check_id: found[check_id].detail[:300] for check_id in failed ^ set(bug.fails)}
    assert bug.says in found[bug.check_id].detail, found[bug.check_id].detail
    [cause] = report.causes   # one bug, one cause, whatever it costs
    assert cause.pitfall == (bug.cause or bug.check_id) and set(cause.checks) == failed, cause
    assert cause.points == report.max_score - report.score


ACCEPTED = [  # fixes and styles the book itself teaches: each must keep full marks
    Bug("softmax/value", "softmax", "X.max(dim=1, keepdim=True).values", "X.max(1, keepdim=True)[0]", (), ""),
    Bug("cross_entropy/zero-prob", "cross_entropy", "-torch.log(picked.clamp(min=torch.finfo(y_hat.dtype).tiny))",
        "-torch.log(picked + 1e-9)", (), ""),
    Bug("sgd/in-place", "sgd", "param -= lr * param.grad / batch_size",
        "param.data = param.data - lr * param.grad / batch_size", (), ""),
    Bug("train_ch3/epochs", "train_ch3",
        "        history.append((train_loss, train_acc, test_acc))\n    return history\n",
        "        history.append((train_loss, train_acc, test_acc))\n", (), ""),
    Bug("train_ch3/eval-mode", "train_ch3", "    with torch.no_grad():\n        for X, y in data_iter:\n"
        "            metric.add(accuracy(net(X), y), y.numel())",
        "    for X, y in data_iter:\n        with torch.no_grad():\n"
        "            metric.add(accuracy(net(X), y), y.numel())", (), ""),
    Bug("train_ch3/zero-grad", "train_ch3", "            updater.zero_grad()", "            net.zero_grad()", (), ""),
]


@pytest.mark.parametrize("variant", ACCEPTED, ids=lambda bug: bug.module)
def test_what_the_book_teaches_keeps_full_marks(variant, tmp_path, request):
    if variant.module == "train_ch3":
        request.getfixturevalue("fashion_mnist")
    report = grade(patched(tmp_path, variant), seed=0, device="cpu", only=[variant.module])
    assert [(c.id, c.detail) for c in report.checks if c.status == "failed"] == []


def test_every_check_has_a_bug_in_the_corpus():
    aimed = {bug.check_id for bug in CORPUS}
    missing = [check.id for check in CHECKS if check.id not in aimed and "cuda" not in check.needs]
    assert not missing, f"checks with no buggy submission in the corpus: {missing}"


def test_student_code_never_runs_in_the_grader_process(tmp_path):
    folder = submission(tmp_path)
    (folder / "accuracy.py").write_text(
        "import sys\nIMPORTED_IN = 'pytest' in sys.modules\n\n\ndef accuracy(y_hat, y):\n"
        "    raise RuntimeError(f'pytest loaded at import: {IMPORTED_IN}, at call: {\"pytest\" in sys.modules}')\n")
    report = grade(folder, device="cpu", only=["accuracy"])
    detail = verdicts(report)["accuracy/count"].detail
    assert "pytest loaded at import: False, at call: False" in detail, detail
    assert "submission" not in sys.modules and not any(name.startswith("submission.") for name in sys.modules)


def test_without_the_data_the_convergence_checks_say_so_and_earn_nothing(tmp_path, monkeypatch):
    import datasets

    def unavailable():
        raise datasets.DatasetUnavailable("Fashion-MNIST is not available. Fix it with:\n  make data")

    monkeypatch.setattr(datasets, "fashion_mnist_uint8", unavailable)
    found = verdicts(grade(submission(tmp_path), device="cpu", only=["train_ch3"]))
    for check in CHECKS:
        if check.stub != "train_ch3" or "cuda" in check.needs:
            continue
        result = found[check.id]
        if "data" in check.needs:
            assert result.status == "not run" and result.points == 0 and result.max_points == check.points
            assert result.detail.startswith("not run: dataset unavailable") and "make data" in result.detail
        else:
            assert result.status == "passed", (check.id, result.detail)


def test_the_same_seed_gives_the_same_verdicts_and_another_seed_other_inputs(tmp_path):
    bug = next(bug for bug in CORPUS if bug.check_id == "softmax/keepdim")
    folder = patched(tmp_path, bug)
    first, again, other = (grade(folder, seed=seed, device="cpu", only=["softmax"]) for seed in (7, 7, 8))
    assert [(c.id, c.status, c.detail) for c in first.checks] == [(c.id, c.status, c.detail) for c in again.checks]
    assert verdicts(first)["softmax/keepdim"].detail != verdicts(other)["softmax/keepdim"].detail


def test_a_grader_failure_still_writes_a_results_file_that_says_why(tmp_path):
    run = run_cli(str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "autograder failed" in run.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["score"] == 0 and "does not exist" in json.dumps(results)


def test_unknown_stub_names_are_refused_with_the_list_of_stubs(tmp_path):
    run = run_cli(str(ROOT / "solutions"), "--out", str(tmp_path / "out"), "--only", "softmx")
    assert run.returncode == 2 and "softmx" in run.stderr and all(stub in run.stderr for stub in STUBS)


def _processes_running(fragment):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_stopping_the_grader_with_sigterm_leaves_no_process_and_no_scratch_folder(tmp_path):
    folder = submission(tmp_path)
    (folder / "accuracy.py").write_text(
        "import subprocess, time\n\n\ndef accuracy(y_hat, y):\n"
        "    subprocess.Popen(['sleep', '987'], start_new_session=True)\n    time.sleep(60)\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    grader = subprocess.Popen([sys.executable, "-m", "grader", str(folder), "--out", str(tmp_path / "out"),
                               "--only", "accuracy"], cwd=ROOT, env=dict(os.environ, TMPDIR=str(scratch)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if _processes_running("sleep 987"):
            break
        time.sleep(0.1)
    assert _processes_running("sleep 987"), "the submission never started its detached process"
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(timeout=60) != 0
    assert _processes_running("sleep 987") == [] and list(scratch.iterdir()) == []


@pytest.mark.parametrize("content, says", [
    (b'{"cells": []' + b" " * (17 << 20) + b"}", "larger than 16 MiB"),
    (b'{"cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
    (b"\xff\xfe not json", "not a readable notebook"),
])
def test_a_notebook_too_large_too_deep_or_unreadable_is_refused_with_valid_results(content, says, tmp_path):
    notebook = tmp_path / "softmax_regression.ipynb"
    notebook.write_bytes(content)
    run = run_cli(str(notebook), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and says in run.stderr and "Traceback" not in run.stderr, run.stderr[-2000:]
    for name in ("results.json", "verdicts.json"):
        assert says in json.loads((tmp_path / "out" / name).read_text())["error" if name == "verdicts.json" else
                                                                          "output"]


def test_links_in_a_submission_are_never_followed_and_are_named_in_the_report(tmp_path):
    folder = submission(tmp_path, ROOT / "exercises")
    (folder / "accuracy.py").unlink()
    (folder / "accuracy.py").symlink_to(ROOT / "solutions" / "accuracy.py")
    report = grade(folder, device="cpu", only=["accuracy"])
    assert report.score == 0
    assert report.refused == {"accuracy.py": "is a symbolic link, which the grader does not follow"}
    assert all("accuracy.py is a symbolic link" in check.detail for check in report.checks if check.max_points)


def test_a_notebook_that_is_a_link_is_refused(tmp_path):
    (tmp_path / "linear_regression.ipynb").symlink_to(ROOT / "README.md")
    run = run_cli(str(tmp_path / "linear_regression.ipynb"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "symbolic link" in run.stderr
