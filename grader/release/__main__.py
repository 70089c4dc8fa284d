"""``make release``: the student handout in dist/student/ and the nbgrader course, from solutions/ and the table.

Nothing anyone edited is lost (see ``sync``), and nothing under the course's submitted/,
autograded/ or feedback/ is touched.
"""
import argparse
import sys
import time
from pathlib import Path

from .. import course, messages
from ..table import TOTAL
from . import handout, notebooks
from .nbgrader_cli import nbgrader
from .settings_file import GPU_CHECK, write_template
from .stubgen import StubError
from .sync import MANIFEST, adopt, describe, sync

ROOT = Path(__file__).resolve().parents[2]


BESIDE = ("grader/", "datasets/")   # the handout's packages, released beside the notebooks so their checks run there


def release_course(course_dir, solutions, force=False, language="en", gpu_cell=True, beside=None):
    """Write the kit's nbgrader config, the source notebooks (in ``language``) and the files ``beside`` them, then
    run ``nbgrader generate_assignment``. nbgrader_config.py is the instructor's: written only where there is none."""
    course_dir = Path(course_dir)
    notes = _own_config(course_dir)
    source = f"source/{notebooks.ASSIGNMENT}"
    files = {notebooks.KIT_CONFIG: notebooks.config_text(course_dir, ROOT, language).encode()}
    files.update({f"{source}/{name}": text.encode()
                  for name, text in notebooks.source_notebooks(solutions, language, gpu_cell).items()})
    files.update({f"{source}/{name}": data for name, data in (beside or {}).items() if name.startswith(BESIDE)})
    synced = sync(course_dir, files, course_dir / MANIFEST, force)
    if synced.kept:
        return synced, None, notes
    return synced, nbgrader(course_dir, "generate_assignment", notebooks.ASSIGNMENT, "--force"), notes


def _own_config(course_dir):
    """Leave nbgrader_config.py to the instructor: write it where there is none, and stop owning one an older
    release wrote (replaced when nobody edited it). Lines about what was done."""
    config = course_dir / notebooks.NBGRADER_CONFIG
    mine = adopt(course_dir / MANIFEST, notebooks.NBGRADER_CONFIG, config)
    if config.is_file() and not mine:
        if notebooks.KIT_CONFIG not in config.read_text(encoding="utf-8"):
            return [f"  kept        {config}  (yours; to take the kit's settings from {notebooks.KIT_CONFIG}, "
                    f"which each release regenerates, put load_subconfig(\"{notebooks.KIT_CONFIG}\") "
                    "in place of the kit's lines)"]
        return []
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(notebooks.INSTRUCTOR_CONFIG, encoding="utf-8")
    return [f"  wrote       {config}  (yours from now on: the release never writes it again)"]


def gpu_cell(settings):
    """Whether the notebooks give the GPU check a cell: always when required, never when left out, and when
    optional only where this machine (the one that autogrades) has a CUDA GPU."""
    if settings.gpu != "optional":
        return settings.gpu == "required"
    import torch
    return torch.cuda.is_available()


def main(argv=None):
    """Command line of ``make release``."""
    parser = argparse.ArgumentParser(prog="python -m grader.release", description=__doc__.splitlines()[0])
    parser.add_argument("--student", type=Path, default=ROOT / "dist" / "student", help="the handout folder")
    parser.add_argument("--course", type=Path, default=ROOT / "course", help="the nbgrader course folder")
    parser.add_argument("--force", action="store_true", help="replace edited files too (they are backed up first)")
    parser.add_argument("--lang", default="en", choices=sorted(messages.NAMES),
                        help="the release's language: stubs, notebooks, READMEs and reports (students may switch)")
    parser.add_argument("--settings", type=Path, default=course.instructor_file(),
                        help="the course's settings (default: D2L_KIT_COURSE, else course.toml; written with every "
                             "setting explained where there is none)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        written = write_template(args.settings)
        settings = course.read(args.settings)
        files = handout.build(ROOT, args.lang, settings)
        student = sync(args.student, files, args.student.parent / f".{args.student.name}{MANIFEST}", args.force)
        cell = gpu_cell(settings)
        synced, generated, notes = release_course(args.course, ROOT / "solutions", args.force, args.lang, cell, files)
    except (StubError, notebooks.CourseError, course.CourseSettingsError, SyntaxError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Student handout: {args.student}/ ({len(student.written)} files written)")
    if written:
        print(f"Course settings: {args.settings} (written now, with every setting explained: yours to edit)")
    for line in describe(student) + describe(synced) + notes:
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
    print(gpu_line(settings, cell))
    print(f"Released in {time.perf_counter() - started:.1f} s.")
    return 0


def _summary(course):
    """Where the released course's parts are, and what the instructor does next."""
    release = course / "release" / notebooks.ASSIGNMENT
    print(f"nbgrader course: {course}/ (source/{notebooks.ASSIGNMENT}/, gradebook.db)")
    print(f"Student notebooks: {release}/ ({', '.join(sorted(p.name for p in release.glob('*.ipynb')))})")
    print(f"Collect submissions into {course}/submitted/STUDENT/{notebooks.ASSIGNMENT}/, then run `make autograde`.")


def gpu_line(settings, cell):
    """What the release decided about the GPU check, and the full marks that follow everywhere."""
    points = GPU_CHECK.points
    with_gpu, without = settings.maximum(TOTAL, points, True), settings.maximum(TOTAL, points, False)
    where = (f"full marks are {with_gpu} where grading has a GPU and {without} without one"
             if with_gpu != without else f"full marks are {with_gpu} everywhere")
    notebooks_total = TOTAL if cell else TOTAL - points
    return (f"GPU check ({GPU_CHECK.id}, {points} points): gpu = \"{settings.gpu}\"; {where}; the nbgrader "
            f"notebooks are worth {notebooks_total} ({'with' if cell else 'without'} its cell).")


if __name__ == "__main__":
    sys.exit(main())
