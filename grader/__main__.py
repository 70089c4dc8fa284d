"""``python -m grader SUBMISSION --out DIR``: grade a folder laid out like exercises/ and write the report.

SUBMISSION may also be a notebook of the assignment, or a folder of its notebooks: their answer
cells are extracted by their nbgrader ids and graded the same way.
"""
import argparse
import dataclasses
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from . import messages, run, table
from .notebook import NotebookError, as_modules
from .progress import ProgressLine

ROOT = Path(__file__).resolve().parent.parent


def parse(argv):
    """The command line's options."""
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", type=Path, default=ROOT / "exercises",
                        help="folder with the stub modules (default: exercises/), a notebook, or a folder of notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "latest", help="report folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (printed in the report)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--only", default="", help="comma-separated stubs or check ids, e.g. softmax,sgd/update")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per worker")
    parser.add_argument("--call-timeout", type=float, default=10.0,
                        help="seconds each call of a student function may take (default 10; training has its own)")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--student-out", type=Path, default=None,
                        help="also write the report a student may receive here (class grading does)")
    parser.add_argument("--lang", choices=sorted(messages.NAMES),
                        help="language of the report: zh, en or both (default: D2L_KIT_LANG, then the locale)")
    return parser.parse_args(argv)


def main(argv=None):
    """Grade, write every report format, print the summary; 0 when grading completed, 2 when it could not."""
    started, args = time.perf_counter(), parse(argv)
    for stream in (sys.stdout, sys.stderr):   # the report's marks and any student text, whatever the locale
        stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    try:
        language = messages.choose(args.lang)
    except messages.LanguageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    messages.use(language)
    os.environ[messages.VARIABLE] = language   # the same language in any process the grading starts
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _stopped)
    out = args.out.resolve()
    if out == args.submission.resolve() or args.submission.resolve() in out.parents:
        print(f"error: {messages.text('error.out-inside', out=out)}", file=sys.stderr)
        return 2
    try:
        with as_modules(args.submission) as modules:
            folder, options = _plan(args, modules)
            return _grade(args, out, started, folder, options, modules)
    except (NotebookError, run.GraderError) as error:
        return _failed(args, out, str(error))
    except KeyboardInterrupt as stop:
        return _failed(args, out, f"grading was interrupted ({stop or 'Ctrl-C'}) before it finished")
    except Exception:
        return _failed(args, out, "the grader crashed:\n" + traceback.format_exc(limit=8))


def _plan(args, modules):
    """The folder to grade and the grading's options; a notebook's own stubs unless --only narrows them."""
    asked = [name.strip() for name in args.only.split(",") if name.strip()]
    if modules is not None:
        folder, stubs, _refused = modules
        asked = [name for name in stubs if not asked or name in asked] or asked
    else:
        folder = args.submission
    return folder, run.Options(seed=args.seed, device=args.device, only=tuple(asked), threads=args.threads,
                               call_timeout=args.call_timeout)


def _grade(args, out, started, folder, options, modules):
    """Grade with a live progress line on a terminal, then write every report format and print the summary."""
    progress = ProgressLine()
    try:
        report = _checked(folder, options, started, progress)
    finally:
        progress.clear()
    from .report import to_terminal, write_all
    if modules is not None:   # the notebooks' names, and any notebook the grader refused to read
        report = dataclasses.replace(report, submission=str(args.submission), refused={**modules[2], **report.refused})
    write_all(report, out)
    if args.student_out:
        from .course import load
        from .report.for_students import write_student
        write_student(report, args.student_out, load().hidden_checks)
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    print(to_terminal(report, color=color))
    if table.DATA.get("hidden"):
        print(table.hidden_summary())
    print(messages.text("report.files", path=out / "report.html"))
    return 0


def _checked(folder, options, started, progress):
    """Start the fork server before the grader's own heavy imports, so both overlap; then run the checks."""
    progress.say(messages.text("progress.start"))
    server = run.start(folder, options)
    try:
        from . import report  # noqa: F401  (torch and the report writers, while the fork server starts)
    except BaseException:
        run.shut_down(server)
        raise
    return run.grade(folder, options, server=server, started=started, progress=progress)


def _stopped(number, _frame):
    """A stop signal unwinds like Ctrl-C, so every worker is killed and scratch files are removed."""
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(number).name}")


def _failed(args, out, message):
    """The grader could not run: still write the results files that say why, and exit non-zero."""
    from .report import write_all
    from .results import GradeReport
    report = GradeReport(submission=str(args.submission), seed=args.seed, device=args.device, checks=(),
                         seconds=0.0, error=message)
    write_all(report, out)
    print(messages.text("report.error.line", error=message), file=sys.stderr)
    print(messages.text("report.files.failed", path=out / "results.json"), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
