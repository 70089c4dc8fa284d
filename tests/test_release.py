"""make release: the handout leaks no solution and no hidden check, grades like the kit, and re-runs lose nothing."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import torch
from test_stubgen import solution_only_lines

from grader import messages
from grader.notebook import source_of
from grader.release import stubgen, sync
from grader.table import CHECKS

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = [check for check in CHECKS if not check.hidden]
HIDDEN = [check for check in CHECKS if check.hidden]


def hidden_check_lines():
    """Non-trivial source lines of the hidden check modules that no other module of the grader shares."""
    def lines(paths):
        return {line.strip() for path in paths for line in path.read_text().splitlines()}
    hidden = ROOT / "grader" / "checks" / "hidden"
    secret = lines(hidden.glob("*.py")) - lines(p for p in (ROOT / "grader").rglob("*.py") if hidden not in p.parents)
    return {line for line in secret if len(line) > 20 and not line.startswith(("from ", "import "))}


def solution_lines():
    """Code lines only solution regions hold: not in any given code of solutions/, and not trivial (``else:``)."""
    given = {line.strip() for path in ROOT.joinpath("solutions").glob("*.py")
             for line in stubgen.make_stub(path.read_text()).splitlines()}
    return {line for path in ROOT.joinpath("solutions").glob("*.py")
            for line in solution_only_lines(path) if line not in given and len(line) >= 8}


SOLUTION_LINES = solution_lines()
HIDDEN_TEXT = {check.id for check in HIDDEN} | hidden_check_lines() | {
    messages.text(f"check.{check.id}.{part}", language) for check in HIDDEN for part in ("title", "hint")
    for language in messages.LANGUAGES}


def readable(path):
    """A file's text; for a notebook its cells' sources, unescaped, as well."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        text += "\n" + "\n".join(source_of(cell) for cell in json.loads(text)["cells"])
    return text


def leaks(folder):
    """By file below ``folder``: the solution lines it holds as code, and any text of a hidden check."""
    found = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        text = readable(path)
        code = {line.strip() for line in text.splitlines()}
        hits = sorted((SOLUTION_LINES & code) | {secret for secret in HIDDEN_TEXT if secret in text})
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def test_no_solution_and_no_hidden_check_reaches_the_handout_or_the_release(released):
    assert leaks(released / "dist" / "student") == {}
    assert leaks(released / "course" / "release") == {}
    found = {hit for hits in leaks(released / "course" / "source").values() for hit in hits}
    celled = {check.id for check in HIDDEN if "cuda" not in check.needs or torch.cuda.is_available()}  # GPU: optional
    assert found & SOLUTION_LINES and celled <= found  # the scan finds what is there


def test_the_handout_leaves_out_the_hidden_checks_and_the_instructors_tools(released):
    handout = released / "dist" / "student"
    table = json.loads((handout / "grader" / "table.json").read_text())
    assert [row["id"] for row in table["checks"]] == [check.id for check in PUBLIC]
    assert sum(count for count, _ in table["hidden"].values()) == len(HIDDEN)
    assert sum(points for _, points in table["hidden"].values()) == sum(check.points for check in HIDDEN)
    for left_out in ("grader/release", "grader/classroom", "grader/checks/hidden",
                     "grader/sandbox/runtime/stand_ins.py",
                     "solutions", "tests/test_grader.py", "bench", ".course-secret"):
        assert not (handout / left_out).exists(), left_out
    assert (handout / "grader" / "checks" / "check_softmax.py").is_file()
    makefile = (handout / "Makefile").read_text() + (handout / "common.mk").read_text()
    assert "grader.release" not in makefile and "-m pytest" not in makefile and "grade:" in makefile


def make_grade(folder, out, *settings):
    """``make grade`` in a handout copy; the parsed results.json and the terminal output."""
    run = subprocess.run(["make", "grade", f"OUT={out}", "DEVICE=cpu", *settings], cwd=folder, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads((Path(out) / "results.json").read_text()), run.stdout


def test_the_handout_grades_a_fresh_copy_stubs_zero_and_pasted_solutions_full(released, tmp_path):
    copy = tmp_path / "handout"
    shutil.copytree(released / "dist" / "student", copy)
    results, output = make_grade(copy, tmp_path / "stubs")
    assert {test["name"].split(" ")[0] for test in results["tests"]} == {check.id for check in PUBLIC}
    assert results["score"] == 0 and results["max_score"] == sum(check.points for check in PUBLIC)
    assert f"also runs {len(HIDDEN)} hidden checks" in output
    for path in (ROOT / "solutions").glob("*.py"):
        shutil.copy(path, copy / "exercises" / path.name)
    results, output = make_grade(copy, tmp_path / "solutions", "D2L_KIT_LANG=zh")   # in Chinese, as a student may ask
    assert results["score"] == results["max_score"] == sum(check.points for check in PUBLIC), results["output"]
    points = sum(check.points for check in PUBLIC)
    assert messages.text("report.total", "zh_CN", score=points, top=points, percent=100) in output.splitlines(), output
    intro = messages.text("report.hidden.intro", "zh_CN", count=len(HIDDEN), points=sum(c.points for c in HIDDEN))
    assert intro in output and "Total" not in output


def handout_pytest(folder, *args):
    """``pytest`` in a handout copy, through its own environment; the exit status and what it printed."""
    env = {key: value for key, value in os.environ.items() if key != "D2L_KIT_SUBMISSION"}
    run = subprocess.run([str(folder / ".venv" / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", *args],
                         cwd=folder, capture_output=True, text=True, timeout=600, env=env)
    return run.returncode, run.stdout + run.stderr


def test_pytest_in_the_handout_runs_the_checks_by_their_ids_and_shows_the_cause(released, tmp_path):
    copy = tmp_path / "handout"
    shutil.copytree(released / "dist" / "student", copy)
    make_grade(copy, tmp_path / "stubs")   # makes the copy's environment, as a student's first `make grade` does
    status, output = handout_pytest(copy, "-k", "softmax")
    softmax_public = [check.id for check in PUBLIC if check.stub == "softmax"]
    assert status == 1 and f"{len(softmax_public)} failed" in output, output[-3000:]
    assert all(f"test_check[{check_id}]" in output for check_id in softmax_public), output[-3000:]
    assert "NotImplementedError" in output and "deselected" in output, output[-3000:]
    shutil.copy(ROOT / "solutions" / "softmax.py", copy / "exercises" / "softmax.py")
    status, output = handout_pytest(copy, "-k", "softmax")
    assert status == 0 and f"{len(softmax_public)} passed" in output, output[-3000:]


def test_a_rerun_leaves_edited_and_foreign_files_alone_and_force_backs_them_up(tmp_path):
    target, manifest = tmp_path / "student", tmp_path / "manifest.json"
    sync.sync(target, {"a.py": b"one\n", "b.py": b"two\n"}, manifest)
    (target / "a.py").write_text("my work\n")
    (target / "notes.txt").write_text("mine\n")
    again = sync.sync(target, {"a.py": b"one v2\n", "b.py": b"two v2\n", "notes.txt": b"generated\n"}, manifest)
    assert sorted(p.name for p in again.kept) == ["a.py", "notes.txt"]
    assert (target / "a.py").read_text() == "my work\n" and (target / "notes.txt").read_text() == "mine\n"
    assert (target / "b.py").read_text() == "two v2\n"
    forced = sync.sync(target, {"a.py": b"one v2\n"}, manifest, force=True)
    assert (target / "a.py").read_text() == "one v2\n" and not (target / "b.py").exists()
    assert sorted(p.read_text() for p in forced.backups) == ["mine\n", "my work\n"]
    assert all(target not in p.parents for p in forced.backups)
