"""Gradescope: ``build`` makes the autograder zip; ``run`` grades one submission inside Gradescope's container
(gradescope_trial.py runs the zip as Gradescope would, in a simulated /autograder on this machine).

The zip holds setup.sh and run_autograder at its root and the kit under ``kit/``: the grader with
every check (hidden ones included), the datasets module, the lock file, the course's settings and
the verified Fashion-MNIST files. ``run`` grades a copy of only the exercise files of the submission,
made in a fresh temporary folder, never the upload in place; it always writes results/results.json,
which holds no temporary path and no detail of the sandbox (those go to the autograder's output,
which only the instructor reads).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from .. import child, course, messages
from ..files import write_atomic
from ..report import VERDICTS, verdicts
from ..report.gradescope_json import not_graded
from ..seeds import SECRET, course_secret, official_seed
from ..table import CHECKS, STUBS, TOTAL

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = Path(__file__).with_name("bundle")
KIT_FILES = ("pyproject.toml", "uv.lock", "Makefile", "common.mk")
PACKAGES = ("grader", "datasets")
LEFT_OUT = ("grader/release",)   # the instructor's release tools: not needed to grade
WRITTEN = ("grader/course.json", "grader/messages/release.json")   # written by build() for this bundle
WANTED = frozenset(f"{stub}.py" for stub in STUBS)
MAX_BYTES = {".py": 1 << 20, ".ipynb": 16 << 20}
MAX_DEPTH = 3
GPU_POINTS = sum(check.points for check in CHECKS if "cuda" in check.needs)   # the GPU check's
CRASH = "Traceback (most recent call last)"


class SubmissionError(Exception):
    """The upload holds nothing gradable; the message tells the student what to upload."""


def kit_files(with_solutions=False):
    """(name in the zip, file) of every file of the kit that grading needs; ``with_solutions``, the reference
    solutions too (a course that shows them after its deadline)."""
    for name in KIT_FILES:
        yield f"kit/{name}", ROOT / name
    course_secret()
    yield f"kit/{SECRET.name}", SECRET   # the seeds of official gradings; students never see the bundle
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            name = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and not name.startswith(LEFT_OUT) \
                    and name not in WRITTEN:
                yield f"kit/{name}", path
    if with_solutions:
        for path in sorted((ROOT / "solutions").glob("*.py")):
            yield f"kit/solutions/{path.name}", path


def data_files():
    """(name in the zip, file) of the four verified Fashion-MNIST files, found by the kit's routes."""
    from datasets.routes import RAW_MD5, locate_fashion_mnist, raw_dir
    folder = raw_dir(locate_fashion_mnist())
    return [(f"kit/data/fashion-mnist/{name}", folder / name) for name in RAW_MD5]


def released_language(student=ROOT / "dist" / "student"):
    """The language the handout was last released in (``make release RELEASE_LANG=...``), else English."""
    return messages.NAMES.get(messages.released(student / "grader" / "messages" / "release.json"), "en")


def full_marks(settings):
    """The points of full marks on Gradescope, whose machines have no GPU: the table's total, less the GPU
    check's unless the course requires it."""
    return settings.maximum(TOTAL, GPU_POINTS, cuda=False)


def instructor_total(settings):
    """What the instructor sets as the assignment's total on Gradescope, and why."""
    points, gpu = full_marks(settings), GPU_POINTS
    why = {"optional": f"Gradescope's machines have no GPU, and gpu = \"optional\" leaves the GPU check "
                       f"({gpu} points) out of the maximum there",
           "required": f"gpu = \"required\" counts the GPU check ({gpu} points), which earns nothing on "
                       "Gradescope's machines without a GPU",
           "left-out": f"gpu = \"left-out\" leaves the GPU check ({gpu} points) out everywhere"}[settings.gpu]
    return f"Set the assignment's total to {points} points on Gradescope: {why}."


def build(out, language="en", settings=None):
    """Write ``out``/autograder.zip atomically and return its path; its results speak ``language`` and follow the
    course's ``settings`` (by default the course's own)."""
    settings = settings or course.load()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "autograder.zip"
    descriptor, temporary = tempfile.mkstemp(dir=out, prefix=".autograder.", suffix=".zip")
    os.close(descriptor)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("setup.sh", "run_autograder"):
                _add(archive, name, BUNDLE / name, 0o755)
            for name, path in [*kit_files(settings.reference_after is not None), *data_files()]:
                _add(archive, name, path, 0o600 if path == SECRET else 0o644)
            for name, text in (("kit/grader/messages/release.json", messages.release_file(language)),
                               ("kit/grader/course.json", course.json_text(settings))):
                info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                info.external_attr, info.compress_type = (0o100000 | 0o644) << 16, zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
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
        raise SubmissionError(messages.text("gradescope.no-files", modules=_modules(), found=", ".join(seen)
                                            or messages.text("gradescope.no-files.nothing")))
    return found[max(found, key=lambda folder: (len(found[folder]), -len(folder.parts)))]


def _modules():
    return ", ".join(sorted(WANTED))


def stage(submission, target):
    """Copy only the gradable files of ``submission`` into the new folder ``target``; return it."""
    if not Path(submission).is_dir():
        raise SubmissionError(messages.text("gradescope.no-submission", modules=_modules()))
    target.mkdir(parents=True)
    for path in gradable_files(submission):
        limit = MAX_BYTES[path.suffix]
        if path.stat().st_size > limit:
            raise SubmissionError(messages.text("gradescope.too-large", name=path.name, limit=limit >> 20,
                                                modules=_modules()))
        shutil.copyfile(path, target / path.name)
    return target


def _full_marks():
    """full_marks() of the bundle's settings; the table's total where they cannot be read."""
    try:
        return full_marks(course.load())
    except course.CourseSettingsError:
        return TOTAL


def grade_staged(staged, report, timeout, upload):
    """Grade the staged copy with the upload's secret seed; Gradescope's results as the grader wrote them, results
    that say why the grading did not finish, or RuntimeError where the grader left no result."""
    code = child.run(staged, report, None, timeout, seed=official_seed(upload, staged))
    try:
        ended = verdicts.read(report / VERDICTS)   # grading ended with a result, an error of the grader's included
        data = json.loads((report / "results.json").read_text(encoding="utf-8"))
    except ValueError as error:
        raise RuntimeError(f"the grader ended with status {code} without a result ({error})") from None
    if ended.error:   # a notebook without answers, a grader that could not run: what to do, not 0 / 0
        crashed = CRASH in ended.error   # a traceback of the grader's own code is for the instructor only
        if crashed:
            print(f"The grader could not grade this upload:\n{ended.error}", flush=True)
        why = messages.text("gradescope.crashed") if crashed else ended.error
        data = not_graded(messages.text("gradescope.not-finished", why=why), _full_marks(),
                          data.get("execution_time", 0))
    return data


def for_students(data, work):
    """``data`` with every temporary path taken out of what students read: a file under a temporary folder keeps
    its name only, and the grading's own folder becomes "…"."""
    def alternatives(folders):
        return "|".join(re.escape(folder.rstrip("/")) for folder in sorted(folders, key=len, reverse=True))

    own = alternatives({str(work), os.path.realpath(work)})
    temporary = alternatives({tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())})
    part = r"[^\s'\"/]+"
    pattern = re.compile(rf"(?:{own})(?:/{part})*/(?={part})|(?:{own})(?!/{part})"
                         rf"|(?:{temporary})(?:/{part})*/(?={part})")

    def clean(text):
        return pattern.sub(lambda match: "" if match.group().endswith("/") else "…", text) \
            if isinstance(text, str) else text

    data = dict(data, output=clean(data.get("output", "")))
    data["tests"] = [dict(test, name=clean(test.get("name", "")), output=clean(test.get("output", "")))
                     for test in data.get("tests", [])]
    return data


def for_the_instructor(report):
    """Print the full report of the grading (the sandbox's details included) to the autograder's output, which
    Gradescope shows the instructor only (stdout_visibility is hidden)."""
    try:
        text = (report / "report.md").read_text(encoding="utf-8")
    except OSError:
        return
    print("\nThe grader's full report, for the instructor (students do not see this output):\n", flush=True)
    print(text, flush=True)


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
        for_the_instructor(work / "report")
    except SubmissionError as error:
        data = not_graded(str(error), _full_marks(), time.perf_counter() - started)
    except subprocess.TimeoutExpired:
        why = messages.text("gradescope.timeout", seconds=f"{timeout:g}")
        data = not_graded(messages.text("gradescope.not-finished", why=why), _full_marks(),
                          time.perf_counter() - started)
    except Exception:
        print("The autograder crashed:\n" + traceback.format_exc(limit=6), flush=True)   # for the instructor only
        why = messages.text("gradescope.crashed")
        data = not_graded(messages.text("gradescope.not-finished", why=why), _full_marks(),
                          time.perf_counter() - started)
    try:
        data = for_students(data, work)
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
        settings = course.load()
        target = build(args.out, args.lang or released_language(), settings)
    except course.CourseSettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except DatasetUnavailable as error:
        print(f"error: the bundle needs Fashion-MNIST.\n{error}", file=sys.stderr)
        return 1
    print(f"Built {target} ({target.stat().st_size >> 20} MiB): upload it as the assignment's autograder")
    print(instructor_total(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
