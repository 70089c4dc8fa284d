"""``make gradescope-trial``: run the Gradescope bundle as Gradescope would, on one submission, in a simulated
``/autograder``: the zip unpacked into ``source/``, ``setup.sh``, the upload laid out, ``run_autograder``.
"""
import argparse
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .. import course
from ..report.text import fmt
from .gradescope import ROOT, full_marks, instructor_total

TRIALS = ROOT / "dist" / "gradescope" / "trial"
# Variables of this machine that Gradescope's container does not have: make's own, an active virtual
# environment, and the kit's overrides (a trial must grade with the bundle's settings and language).
FOREIGN = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME",
           "FASHION_MNIST_DIR")


class TrialError(Exception):
    """A trial that cannot go on; the message says why."""


def unpack(bundle, folder):
    """Unzip ``bundle`` into ``folder`` as unzip does, each file with its mode (the scripts stay executable)."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, folder))
            mode = stat.S_IMODE(info.external_attr >> 16)
            if mode and not info.is_dir():
                path.chmod(mode)


def put_submission(submission, target):
    """Lay out ``submission`` in ``target`` as Gradescope lays out an upload: a folder's files, a .zip's files
    unpacked, or one .ipynb or .py file."""
    submission = Path(submission)
    target.mkdir(parents=True)
    if submission.is_dir():
        shutil.copytree(submission, target, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    elif submission.suffix == ".zip" and zipfile.is_zipfile(submission):
        with zipfile.ZipFile(submission) as archive:
            archive.extractall(target)
    elif submission.is_file() and submission.suffix in (".ipynb", ".py"):
        shutil.copyfile(submission, target / submission.name)
    else:
        raise TrialError(f"{submission} is no folder, .zip, .ipynb or .py file: nothing to upload")


def metadata(settings):
    """A submission_metadata.json like Gradescope's, with an id of its own."""
    return {"id": random.randint(100_000_000, 999_999_999), "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "submission_method": "upload", "previous_submissions": [],
            "assignment": {"id": 1, "title": "d2l linear neural networks (trial)",
                           "total_points": f"{float(full_marks(settings))}"},
            "users": [{"name": "Trial Student", "email": "trial.student@example.com", "sid": "0"}]}


def gradescope_environment(root):
    """This process's environment as Gradescope's container would have it: without make's variables, an active
    virtual environment or the kit's overrides; AUTOGRADER_ROOT names the simulated /autograder."""
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN and not name.startswith("D2L_")}
    if sys.prefix != sys.base_prefix:   # this kit's .venv/bin is no part of Gradescope's PATH
        own = os.path.realpath(Path(sys.prefix) / "bin")
        env["PATH"] = os.pathsep.join(entry for entry in env.get("PATH", "").split(os.pathsep)
                                      if entry and os.path.realpath(entry) != own)
    env["AUTOGRADER_ROOT"] = str(root)
    return env


def summary(data, results):
    """What results.json holds, to read on a terminal: the score, the output students read, one line per test."""
    lines = [f"Score: {fmt(data.get('score'))} / {fmt(data.get('max_score'))}", "",
             "Output (at the top of the student's results):"]
    lines += [f"  {line}" for line in str(data.get("output", "")).splitlines()]
    tests = data.get("tests", [])
    lines += ["", f"Tests ({len(tests)}):"] if tests else ["", "Tests: none"]
    for test in tests:
        mark = "✓" if test.get("status") == "passed" else "✗"
        shown = "" if test.get("visibility") == "visible" else f"  [{test.get('visibility')}]"
        points = f"{fmt(test.get('score'))} / {fmt(test.get('max_score'))}"
        lines.append(f"  {mark} {test.get('status', ''):<6} {points:>9}  {test.get('name', '')}{shown}")
    return "\n".join([*lines, "", f"Results: {results}"])


def trial(submission, bundle, root=None):
    """Run ``bundle`` as Gradescope would on ``submission``, in the simulated /autograder ``root`` (a new folder
    under dist/gradescope/trial by default): setup.sh, then run_autograder. Return results.json's path."""
    if not Path(bundle).is_file():
        raise TrialError(f"there is no bundle at {bundle}: build it with make gradescope")
    if not Path(submission).exists():
        raise TrialError(f"there is no submission at {submission}")
    if root is None:
        TRIALS.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="autograder-", dir=TRIALS))
    root = Path(root).resolve()
    if root.exists() and any(root.iterdir()):
        raise TrialError(f"{root} is not empty: name a new folder for the simulated /autograder")
    print(f"Simulated /autograder: {root}", flush=True)
    unpack(bundle, root / "source")
    settings = course.read(root / "source" / "kit" / "grader" / "course.json")
    env = gradescope_environment(root)
    print("Running source/setup.sh, as Gradescope does once when it builds the autograder's image", flush=True)
    started = time.perf_counter()
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", env=env,
                           stdin=subprocess.DEVNULL)
    if setup.returncode != 0:
        raise TrialError(f"source/setup.sh failed with exit status {setup.returncode}: Gradescope would not build "
                         "the autograder's image")
    print(f"setup.sh finished in {time.perf_counter() - started:.0f} s", flush=True)
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    put_submission(submission, root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps(metadata(settings), indent=2) + "\n", encoding="utf-8")
    log, results = root / "autograder_output.txt", root / "results" / "results.json"
    print("Running run_autograder, as Gradescope does for each upload", flush=True)
    started = time.perf_counter()
    with open(log, "wb") as output:
        subprocess.run([str(root / "run_autograder")], cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=output,
                       stderr=subprocess.STDOUT)
    print(f"run_autograder finished in {time.perf_counter() - started:.0f} s; what it printed (Gradescope shows it "
          f"to the instructor only): {log}\n", flush=True)
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TrialError(f"run_autograder left no readable {results} ({error})") from None
    print(summary(data, results))
    print(instructor_total(settings))
    return results


def main(argv=None):
    """``python -m grader.classroom.gradescope_trial SUBMISSION [--zip ZIP] [--root DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m grader.classroom.gradescope_trial",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("submission", type=Path, help="a folder, a .zip, or one .ipynb or .py file")
    parser.add_argument("--zip", type=Path, default=ROOT / "dist" / "gradescope" / "autograder.zip")
    parser.add_argument("--root", type=Path, help="a new or empty folder for the simulated /autograder "
                                                  "(default: a new one under dist/gradescope/trial)")
    args = parser.parse_args(argv)
    try:
        trial(args.submission, args.zip, args.root)
    except (TrialError, course.CourseSettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
