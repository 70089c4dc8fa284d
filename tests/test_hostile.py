"""The adversarial corpus, graded: each attack gets exactly its outcome and leaves nothing behind."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from attacks import ATTACKS, every

from grader.report import write_all
from grader.run import grade
from grader.sandbox.layers import SANDBOX_UIDS, Sandbox
from grader.sandbox.procs import descendants
from grader.table import BY_ID

ROOT = Path(__file__).resolve().parent.parent
CALL_TIMEOUT = 3.0


def probe():
    """The sandbox a grading would get here (given back at once)."""
    sandbox = Sandbox.choose()
    sandbox.release()
    return sandbox


def build(attack, tmp_path, port):
    """The attack's submission, with its placeholders filled in."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / attack.base, folder, ignore=shutil.ignore_patterns("__pycache__"))
    places = {"OUT": str(tmp_path / "out"), "CANARY": str(tmp_path / "canary"), "REPO": str(ROOT), "PORT": str(port)}
    files = dict(attack.files)
    if attack.replace:
        name, old, new = attack.replace
        text = (folder / name).read_text()
        assert text.count(old) == 1, f"{attack.name}: the change does not match {name} once"
        files[name] = text.replace(old, new)
    for name, source in files.items():
        if source is None:
            (folder / name).unlink()
            continue
        for token, value in places.items():
            source = source.replace(token, value)
        (folder / name).write_text(source)
    return folder


def fingerprint(*folders):
    """Path -> content hash of every file under ``folders`` (the kit's checkout: its tracked files)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True).stdout.split("\0")
    paths = [ROOT / name for name in tracked if name] + [p for f in folders for p in sorted(Path(f).rglob("*"))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def sandbox_processes():
    """Processes that run as a sandbox user, or that descend from this test process."""
    users = [entry.name for entry in Path("/proc").iterdir()
             if entry.name.isdigit() and _uid(entry) in SANDBOX_UIDS]
    return sorted(_describe(pid) for pid in set(users) | {str(pid) for pid in descendants()})


def _describe(pid):
    try:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return f"{pid} {status['Name'].strip()} {status['State'].strip()} uid {status['Uid'].split()[0]}"
    except (OSError, KeyError, ValueError):
        return f"{pid} (gone)"


def _uid(entry):
    try:
        return entry.stat().st_uid
    except OSError:
        return None


def valid_results(path, graded):
    """results.json parses, has one test per graded check, and adds up."""
    results = json.loads(path.read_text())
    names = [test["name"].split(" ")[0] for test in results["tests"]]
    assert sorted(names) == sorted(graded), names
    assert results["score"] == sum(test["score"] for test in results["tests"])
    assert results["max_score"] == sum(test["max_score"] for test in results["tests"])
    return results


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_each_attack_gets_exactly_its_outcome_and_leaves_nothing_behind(attack, tmp_path, request):
    attempt(attack, tmp_path, request)


WITHOUT_NAMESPACES = ("fork bomb", "detached child rewriting files later", "setsid grandchild left running",
                      "forged results.json", "os._exit at call", "solutions read through a symlinked log")


@pytest.mark.parametrize("name", WITHOUT_NAMESPACES)
def test_without_bubblewrap_processes_and_the_report_are_still_safe(name, tmp_path, request, monkeypatch):
    """Files outside the report are safe only with a user of its own: root with nowhere to drop to is not."""
    monkeypatch.setenv("D2L_KIT_SANDBOX", "no-namespaces")
    separate_user = probe().uid is not None
    report = attempt(next(attack for attack in ATTACKS if attack.name == name), tmp_path, request, separate_user)
    assert report.environment["sandbox"].startswith("none") and "no-namespaces" in report.environment["sandbox notes"]
    assert report.environment["user"].startswith("uid") == separate_user or os.geteuid() != 0


def attempt(attack, tmp_path, request, files_protected=True):
    """Grade the attack and check its outcome, the report, the files and the processes; the report."""
    if attack.data:
        request.getfixturevalue("fashion_mnist")
    if attack.namespaces and not probe().bwrap:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("bubblewrap is not usable here")
    (tmp_path / "canary").mkdir()
    (tmp_path / "canary" / "grades.csv").write_text("student,total\n")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    folder, out = build(attack, tmp_path, listener.getsockname()[1]), tmp_path / "out"
    before, started = fingerprint(folder, tmp_path / "canary"), time.monotonic()
    with listener:
        report = grade(folder, device="cpu", only=list(attack.only), hide=[out], call_timeout=CALL_TIMEOUT)
        elapsed = time.monotonic() - started
        write_all(report, out)
        time.sleep(attack.later)
        with pytest.raises(BlockingIOError):
            listener.accept()
    graded = [check.id for check in report.checks if check.max_points > 0]
    failed = {check.id: check.detail for check in report.checks if check.status == "failed"}
    assert set(failed) == set(attack.fails) and set(failed) <= set(graded), failed
    if attack.says:
        check_id, phrases = attack.says
        assert any(phrase in failed[check_id] for phrase in (phrases if type(phrases) is tuple else [phrases])), \
            failed[check_id]
    assert all("grader error" not in detail for detail in failed.values()), failed
    results = valid_results(out / "results.json", [check.id for check in report.checks])
    assert results["score"] < results["max_score"] and elapsed < attack.bound, (results["score"], elapsed)
    assert sandbox_processes() == [], "a process of the submission outlived its grading"
    if files_protected:
        assert fingerprint(folder, tmp_path / "canary") == before, "a file outside the report folder changed"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["canary", "out", "submission"]
    assert_no_leak(out)
    return report


def assert_no_leak(out):
    """No line of a solution body or of a check's source, and no hint of an ungraded check, in the report."""
    text = "\n".join((out / name).read_text() for name in ("results.json", "report.md", "report.html"))
    hints = {check.hint for check in BY_ID.values()}
    secret = [line.strip() for line in (ROOT / "solutions" / "softmax.py").read_text().splitlines()
              if len(line.strip()) > 25 and not line.strip().startswith(("#", "def ", '"""'))]
    secret += ["def check_", "@pytest.mark.check"]
    for line in secret:
        assert line not in text or any(line in hint for hint in hints), f"the report shows {line!r}"


def test_the_corpus_is_large_and_covers_every_stub_it_attacks():
    assert len(ATTACKS) >= 25 and len({attack.name for attack in ATTACKS}) == len(ATTACKS)
    for attack in ATTACKS:
        assert set(attack.fails) <= set(every(*attack.only)), attack.name
