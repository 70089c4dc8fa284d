"""The adversarial corpus, graded with bubblewrap and without: each attack gets exactly its outcome, leaves nothing.

Time bounds are multiples of a baseline measured in the same run (the grading of an untouched stub),
so that they hold on a loaded machine as on a quiet one.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from attacks import ATTACKS, every
from grader.report import write_all
from grader.run import grade
from grader.sandbox.layers import Sandbox
from grader.sandbox.procs import descendants
from grader.table import BY_ID

ROOT = Path(__file__).resolve().parent.parent
CALL_TIMEOUT = 3.0
MODES = ("bubblewrap", "no-namespaces")
UNSAFE = ("\ud800", "\u202e", "\u2028", "\u2029")


def probe():
    """The sandbox a grading would get here (given back at once)."""
    sandbox = Sandbox.choose()
    sandbox.release()
    return sandbox


@pytest.fixture(scope="session")
def baseline(tmp_path_factory):
    """Seconds to grade the untouched accuracy stub here and now: the unit of every attack's time bound."""
    times = []
    for _ in range(2):
        started = time.monotonic()
        grade(ROOT / "exercises", device="cpu", only=["accuracy"], call_timeout=CALL_TIMEOUT)
        times.append(time.monotonic() - started)
    return statistics.median(times)


@pytest.fixture(scope="session")
def offline_weights(fashion_mnist):
    """Weights of softmax regression trained on the real Fashion-MNIST by the reference, as module text."""
    import torch

    from datasets import load_data_fashion_mnist_fast
    from solutions.cross_entropy import cross_entropy
    from solutions.sgd import sgd
    from solutions.softmax import softmax
    from solutions.train_ch3 import train_ch3
    torch.manual_seed(0)
    W, b = torch.normal(0, 0.01, size=(784, 10), requires_grad=True), torch.zeros(10, requires_grad=True)
    train_iter, test_iter = load_data_fashion_mnist_fast(256)
    history = train_ch3(lambda X: softmax(X.reshape(-1, 784) @ W + b), train_iter, test_iter, cross_entropy, 3,
                        lambda n: sgd([W, b], 0.1, n))
    assert history[-1][2] > 0.75   # they would pass the convergence checks on the original data
    return repr(f"W = {[round(v, 5) for v in W.detach().reshape(-1).tolist()]}\nB = {b.detach().tolist()}")


def build(attack, tmp_path, port, weights):
    """The attack's submission, with its placeholders filled in."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / attack.base, folder, ignore=shutil.ignore_patterns("__pycache__"))
    places = {"OUT": str(tmp_path / "out"), "CANARY": str(tmp_path / "canary"),
              "CLASSMATE": str(tmp_path / "classmate"), "REPO": str(ROOT), "PORT": str(port),
              "OFFLINE_WEIGHTS": weights}
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


def leftovers(uid):
    """Processes of the grading's sandbox user, or descending from this test process."""
    users = [entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit() and _uid(entry) == uid]
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


def layers_missing(attack, sandbox):
    """Why this machine or mode lacks the layer the attack's outcome depends on, or ""."""
    if attack.needs == "namespaces" and not sandbox.bwrap:
        return "bubblewrap: without it, files that other users may read stay readable (the report says so)"
    if attack.needs == "own-user" and not sandbox.bwrap and sandbox.uid is None:
        return "a user of its own or bubblewrap"
    if attack.needs == "bounded-home" and not sandbox.bwrap and os.geteuid() != 0:
        return "a home of bounded size: bubblewrap, or root for a tmpfs of its own"
    return ""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_each_attack_gets_exactly_its_outcome_and_leaves_nothing_behind(attack, mode, tmp_path, request,
                                                                       monkeypatch, baseline):
    if mode == "no-namespaces":
        monkeypatch.setenv("D2L_KIT_SANDBOX", "no-namespaces")
    sandbox = probe()
    if mode == "bubblewrap" and not sandbox.bwrap:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("bubblewrap is not usable here")
    missing = layers_missing(attack, sandbox)
    if missing:
        pytest.skip(f"this outcome needs {missing}")
    report = attempt(attack, tmp_path, request, monkeypatch, baseline, files_protected=sandbox.uid is not None
                     or sandbox.bwrap is not None)
    assert report.environment["sandbox"].startswith("bubblewrap" if mode == "bubblewrap" else "none")


def attempt(attack, tmp_path, request, monkeypatch, baseline, files_protected=True):
    """Grade the attack and check its outcome, the report, the files, the processes and the scratch folders."""
    weights = request.getfixturevalue("offline_weights") if attack.data else "''"
    for name in ("canary", "tmp"):
        (tmp_path / name).mkdir()
    (tmp_path / "canary" / "grades.csv").write_text("student,total\n")
    shutil.copytree(ROOT / "solutions", tmp_path / "classmate")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))   # this grading's scratch folders land here
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    folder, out = build(attack, tmp_path, listener.getsockname()[1], weights), tmp_path / "out"
    before, started = fingerprint(folder, tmp_path / "canary", tmp_path / "classmate"), time.monotonic()
    with listener:
        report = grade(folder, device="cpu", only=list(attack.only), call_timeout=CALL_TIMEOUT)
        elapsed = time.monotonic() - started
        write_all(report, out)
        time.sleep(attack.later)
        with pytest.raises(BlockingIOError):
            listener.accept()
    graded = [check.id for check in report.checks if check.status != "not run"]
    failed = {check.id: check.detail for check in report.checks if check.status == "failed"}
    assert set(failed) == set(attack.fails) and set(failed) <= set(graded), failed
    if attack.says:
        check_id, phrases = attack.says
        assert any(phrase in failed[check_id] for phrase in (phrases if type(phrases) is tuple else [phrases])), \
            failed[check_id]
    assert all("grader error" not in detail for detail in failed.values()), failed
    results = valid_results(out / "results.json", [check.id for check in report.checks
                                                   if check.status != "not run" or check.max_points > 0])
    bound = attack.bound * baseline + attack.waits * CALL_TIMEOUT
    assert results["score"] < results["max_score"] and elapsed < bound, (results["score"], elapsed, bound)
    uid = re.match(r"uid (\d+)", report.environment["user"])
    assert leftovers(int(uid.group(1)) if uid else -1) == [], "a process of the submission outlived its grading"
    assert list((tmp_path / "tmp").iterdir()) == [], "the grading left files in the scratch area"
    if files_protected:
        assert fingerprint(folder, tmp_path / "canary", tmp_path / "classmate") == before, "a file changed"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["canary", "classmate", "out", "submission", "tmp"]
    assert_no_leak(out)
    if attack.extra:
        EXTRA[attack.extra](report, out)
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


def _training_not_verified(report, out):
    """The loop checks fail because the training could not be verified, not for what the log claims."""
    for check in report.checks:
        if check.id in ("train_ch3/epochs", "train_ch3/test-each-epoch", "train_ch3/eval-mode", "train_ch3/zero-grad"):
            assert "could not be verified" in check.detail, (check.id, check.detail)


def _no_hidden_input_shown(report, out):
    """Public checks run before every hidden one: none of them saw a hidden input (logits of about 1000)."""
    largest = {check.id: float(re.search(r"largest input seen so far: ([-\d.e+]+)", check.detail).group(1))
               for check in report.checks if "largest input seen" in check.detail}
    public = [check_id for check_id in largest if not BY_ID[check_id].hidden]
    assert public and all(largest[check_id] < 100 for check_id in public), largest
    assert largest["softmax/overflow"] > 900, largest   # the attack does see what it is given


def _safe_text(report, out):
    """Student text that could hide or reorder what a report says is escaped in every format."""
    for path in out.iterdir():
        if path.suffix in (".json", ".md", ".html", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert not any(character in text for character in UNSAFE), path.name
    json.loads((out / "verdicts.json").read_text(encoding="utf-8"))


EXTRA = {"training not verified": _training_not_verified, "no hidden input shown": _no_hidden_input_shown,
         "safe text": _safe_text}


def test_the_corpus_is_large_and_covers_every_stub_it_attacks():
    assert len(ATTACKS) >= 43 and len({attack.name for attack in ATTACKS}) == len(ATTACKS)
    for attack in ATTACKS:
        assert set(attack.fails) <= set(every(*attack.only)), attack.name
        assert not attack.extra or attack.extra in EXTRA, attack.name


def test_a_machine_without_control_groups_gets_a_note_not_a_crash(monkeypatch):
    from grader.sandbox import cgroups

    def unmounted():
        raise FileNotFoundError("/sys/fs/cgroup/pids is not mounted")   # a chroot, a container without them
    monkeypatch.setattr(cgroups, "_hierarchies", unmounted)
    notes = []
    assert cgroups.ControlGroup.create(notes) is None
    assert notes == ["no control group: /sys/fs/cgroup/pids is not mounted"]
