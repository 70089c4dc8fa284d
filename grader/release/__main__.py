"""``make release``: the student handout in dist/student/ and the nbgrader course, from solutions/ and the table.

Nothing anyone edited is lost (see ``sync``), and nothing under the course's submitted/,
autograded/ or feedback/ is touched.
"""
import argparse
import sys
import time
from pathlib import Path

from .. import messages
from . import handout, notebooks
from .nbgrader_cli import nbgrader
from .stubgen import StubError
from .sync import MANIFEST, describe, sync

ROOT = Path(__file__).resolve().parents[2]


def release_course(course_dir, solutions, force=False, language="en"):
    """Write the course's config and source notebooks (in ``language``), then run ``nbgrader generate_assignment``."""
    course_dir = Path(course_dir)
    files = {"nbgrader_config.py": notebooks.config_text(course_dir, ROOT, language).encode()}
    files.update({f"source/{notebooks.ASSIGNMENT}/{name}": text.encode()
                  for name, text in notebooks.source_notebooks(solutions, language).items()})
    synced = sync(course_dir, files, course_dir / MANIFEST, force)
    if synced.kept:
        return synced, None
    return synced, nbgrader(course_dir, "generate_assignment", notebooks.ASSIGNMENT, "--force")


def main(argv=None):
    """Command line of ``make release``."""
    parser = argparse.ArgumentParser(prog="python -m grader.release", description=__doc__.splitlines()[0])
    parser.add_argument("--student", type=Path, default=ROOT / "dist" / "student", help="the handout folder")
    parser.add_argument("--course", type=Path, default=ROOT / "course", help="the nbgrader course folder")
    parser.add_argument("--force", action="store_true", help="replace edited files too (they are backed up first)")
    parser.add_argument("--lang", default="en", choices=sorted(messages.NAMES),
                        help="the release's language: stubs, notebooks, READMEs and reports (students may switch)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        student = sync(args.student, handout.build(ROOT, args.lang),
                       args.student.parent / f".{args.student.name}{MANIFEST}", args.force)
        synced, generated = release_course(args.course, ROOT / "solutions", args.force, args.lang)
    except (StubError, notebooks.CourseError, SyntaxError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Student handout: {args.student}/ ({len(student.written)} files written)")
    for line in describe(student) + describe(synced):
        print(line)
    if student.kept or synced.kept:
        print("Not released: the files left alone above were edited. Move them away, or run "
              "`make release FORCE=1` (they are backed up first).", file=sys.stderr)
        return 1
    if generated.returncode:
        print(generated.stdout, file=sys.stderr)
        print("error: nbgrader generate_assignment failed (its output is above)", file=sys.stderr)
        return 1
    _summary(args.course)
    print(f"Released in {time.perf_counter() - started:.1f} s.")
    return 0


def _summary(course):
    """Where the released course's parts are, and what the instructor does next."""
    release = course / "release" / notebooks.ASSIGNMENT
    print(f"nbgrader course: {course}/ (source/{notebooks.ASSIGNMENT}/, gradebook.db)")
    print(f"Student notebooks: {release}/ ({', '.join(sorted(p.name for p in release.glob('*.ipynb')))})")
    print(f"Collect submissions into {course}/submitted/STUDENT/{notebooks.ASSIGNMENT}/, then run `make autograde`.")


if __name__ == "__main__":
    sys.exit(main())
