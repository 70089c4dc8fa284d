"""Gradescope: ``build`` makes the autograder zip; ``run`` grades one submission inside Gradescope's container.

The zip holds setup.sh and run_autograder at its root and the kit under ``kit/``: the grader with
every check (hidden ones included), the datasets module, the lock file and the verified
Fashion-MNIST files. ``run`` grades a copy of only the exercise files of the submission, made in a
fresh temporary folder, never the upload in place; it always writes results/results.json.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from .. import child, messages
from ..files import write_atomic
from ..report import VERDICTS, to_gradescope, verdicts
from ..results import GradeReport
from ..seeds import SECRET, course_secret, official_seed
from ..table import STUBS

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = Path(__file__).with_name("bundle")
KIT_FILES = ("pyproject.toml", "uv.lock", "Makefile", "common.mk")
PACKAGES = ("grader", "datasets")
LEFT_OUT = ("grader/release",)   # the instructor's release tools: not needed to grade
WANTED = frozenset(f"{stub}.py" for stub in STUBS)
MAX_BYTES = {".py": 1 << 20, ".ipynb": 16 << 20}
MAX_DEPTH = 3


class SubmissionError(Exception):
    """The upload holds nothing gradable; the message tells the student what to upload."""


def kit_files():
    """(name in the zip, file) of every file of the kit that grading needs."""
    for name in KIT_FILES:
        yield f"kit/{name}", ROOT / name
    course_secret()
    yield f"kit/{SECRET.name}", SECRET   # the seeds of official gradings; students never see the bundle
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            name = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and not name.startswith(LEFT_OUT):
                yield f"kit/{name}", path


def data_files():
    """(name in the zip, file) of the four verified Fashion-MNIST files, found by the kit's routes."""
    from datasets.routes import RAW_MD5, locate_fashion_mnist, raw_dir
    folder = raw_dir(locate_fashion_mnist())
    return [(f"kit/data/fashion-mnist/{name}", folder / name) for name in RAW_MD5]


def released_language(student=ROOT / "dist" / "student"):
    """The language the handout was last released in (``make release RELEASE_LANG=...``), else English."""
    return messages.NAMES.get(messages.released(student / "grader" / "messages" / "release.json"), "en")


def build(out, language="en"):
    """Write ``out``/autograder.zip atomically and return its path; its results speak ``language``."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "autograder.zip"
    descriptor, temporary = tempfile.mkstemp(dir=out, prefix=".autograder.", suffix=".zip")
    os.close(descriptor)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("setup.sh", "run_autograder"):
                _add(archive, name, BUNDLE / name, 0o755)
            for name, path in [*kit_files(), *data_files()]:
                _add(archive, name, path, 0o600 if path == SECRET else 0o644)
            info = zipfile.ZipInfo("kit/grader/messages/release.json", date_time=time.localtime()[:6])
            info.external_attr, info.compress_type = (0o100000 | 0o644) << 16, zipfile.ZIP_DEFLATED
            archive.writestr(info, messages.release_file(language))
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _add(archive, name, path, mode):
    info = zipfile.ZipInfo(name, date_time=time.localtime(path.stat().st_mtime)[:6])
    info.external_attr, info.compress_type = (0o100000 | mode) << 16, zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())


def gradable_files(submission):
    """The exercise modules and notebooks of an upload: the folder that holds most of them, symlinks never followed."""
    found = {}
    for folder, subfolders, names in os.walk(submission):
        depth = len(Path(folder).relative_to(submission).parts)
        subfolders[:] = [name for name in subfolders if depth < MAX_DEPTH and not name.startswith((".", "__"))]
        for name in names:
            path = Path(folder) / name
            if (name in WANTED or name.endswith(".ipynb")) and not path.is_symlink() and path.is_file():
                found.setdefault(Path(folder), []).append(path)
    if not found:
        seen = sorted(path.name for path in Path(submission).rglob("*") if path.is_file())[:10]
        raise SubmissionError("No exercise files were found in your submission. Upload your modules ("
                              f"{', '.join(sorted(WANTED))}) or your notebooks. Found: {', '.join(seen) or 'nothing'}.")
    return found[max(found, key=lambda folder: (len(found[folder]), -len(folder.parts)))]


def stage(submission, target):
    """Copy only the gradable files of ``submission`` into the new folder ``target``; return it."""
    if not Path(submission).is_dir():
        raise SubmissionError(f"There is no submission folder at {submission}.")
    target.mkdir(parents=True)
    for path in gradable_files(submission):
        limit = MAX_BYTES[path.suffix]
        if path.stat().st_size > limit:
            raise SubmissionError(f"{path.name} is larger than {limit >> 20} MiB; upload only your exercise files.")
        shutil.copyfile(path, target / path.name)
    return target


def failure(message, seconds):
    """Gradescope's results for a submission that could not be graded, saying why."""
    report = GradeReport(submission="submission", seed=0, device="auto", checks=(), seconds=seconds, error=message)
    return to_gradescope(report)


def grade_staged(staged, report, timeout, upload):
    """Grade the staged copy with the upload's secret seed; Gradescope's results as the grader wrote them,
    or a failure that says why."""
    code = child.run(staged, report, None, timeout, seed=official_seed(upload, staged))
    try:
        verdicts.read(report / VERDICTS)   # grading ended with a result, an error of the grader's included
        return json.loads((report / "results.json").read_text(encoding="utf-8"))
    except ValueError as error:
        raise RuntimeError(f"the grader ended with status {code} without a result ({error})") from None


def upload(root):
    """The name of this upload in Gradescope's metadata (each upload has an id of its own)."""
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        return f"gradescope/{metadata.get('id', '')}"
    except (OSError, ValueError, AttributeError):
        return "gradescope"


def run(root, timeout):
    """Grade ``root``/submission and write ``root``/results/results.json, whatever happens."""
    started, results = time.perf_counter(), root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="d2l-gradescope-"))
    try:
        data = grade_staged(stage(root / "submission", work / "submission"), work / "report", timeout, upload(root))
    except SubmissionError as error:
        data = failure(str(error), time.perf_counter() - started)
    except subprocess.TimeoutExpired:
        data = failure(f"grading took longer than {timeout:g} s and was stopped", time.perf_counter() - started)
    except Exception:
        data = failure("the autograder crashed:\n" + traceback.format_exc(limit=6), time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_atomic(results, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return results


def main(argv=None):
    """``build --out DIR`` or ``run --root DIR``."""
    parser = argparse.ArgumentParser(prog="python -m grader.classroom.gradescope", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    builder = commands.add_parser("build", help="build the autograder zip")
    builder.add_argument("--out", type=Path, default=ROOT / "dist" / "gradescope")
    builder.add_argument("--lang", choices=sorted(messages.NAMES),
                         help="the language of the results students read (en, zh or both; default: the language "
                              "of the last make release, else en)")
    runner = commands.add_parser("run", help="grade /autograder/submission (what run_autograder does)")
    runner.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    runner.add_argument("--timeout", type=float, default=1200, help="seconds before grading is stopped")
    args = parser.parse_args(argv)
    if args.command == "run":
        print(f"Results: {run(args.root.resolve(), args.timeout)}")
        return 0
    from datasets import DatasetUnavailable
    try:
        target = build(args.out, args.lang or released_language())
    except DatasetUnavailable as error:
        print(f"error: the bundle needs Fashion-MNIST.\n{error}", file=sys.stderr)
        return 1
    print(f"Built {target} ({target.stat().st_size >> 20} MiB): upload it as the assignment's autograder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
