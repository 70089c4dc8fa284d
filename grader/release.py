"""``make release``: the student handout in dist/student/ and the nbgrader course, from solutions/ and the table.

Every file written is recorded with its hash, so a re-run replaces only what it wrote itself and
nobody edited since. An edited or foreign file is left alone and named (``--force`` moves it to a
backup folder first). Nothing under the course's submitted/, autograded/ or feedback/ is touched.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import course, handout
from .stubgen import StubError, _write_atomically

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".kit-release.json"
UMASK = os.umask(0o022)
os.umask(UMASK)


@dataclass
class Synced:
    """What one sync did: files written, left alone because someone edited them, backed up, removed."""

    target: Path
    written: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    backups: list = field(default_factory=list)
    removed: list = field(default_factory=list)


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def sync(target, files, manifest, force=False):
    """Make ``target`` hold ``files`` ({relative path: bytes}) without losing anything someone edited."""
    target, manifest = Path(target), Path(manifest)
    before = json.loads(manifest.read_text()) if manifest.is_file() else {}
    result, after, stamp = Synced(target), {}, time.strftime("%Y%m%d-%H%M%S")
    for name in sorted(set(files) | set(before)):
        path, new = target / name, files.get(name)
        current = path.read_bytes() if path.is_file() else None
        edited = current is not None and _digest(current) != before.get(name) and current != new
        if edited and not force:
            result.kept.append(path)
            after[name] = before.get(name, "")
            continue
        if edited:
            backup = target.parent / f"{target.name}.bak-{stamp}" / name
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, backup)
            result.backups.append(backup)
        if new is None:
            if path.is_file():
                path.unlink()
                result.removed.append(path)
            continue
        if current != new or edited:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, new.decode("utf-8"))
            path.chmod(0o666 & ~UMASK)
            result.written.append(path)
        after[name] = _digest(new)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(after, indent=1, sort_keys=True) + "\n")
    return result


def nbgrader(course_dir, *args):
    """Run the real nbgrader CLI in the course folder; its output comes back for the caller to show."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env.pop("D2L_KIT_VERDICTS", None)
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env, text=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if "Exception while loading config file" in run.stdout:
        return subprocess.CompletedProcess(run.args, 1, run.stdout)
    return run


def release_course(course_dir, solutions, force=False):
    """Write the course's config and source notebooks, then run ``nbgrader generate_assignment``."""
    course_dir = Path(course_dir)
    files = {"nbgrader_config.py": course.config_text(course_dir, ROOT).encode()}
    files.update({f"source/{course.ASSIGNMENT}/{name}": text.encode()
                  for name, text in course.source_notebooks(solutions).items()})
    synced = sync(course_dir, files, course_dir / MANIFEST, force)
    if synced.kept:
        return synced, None
    return synced, nbgrader(course_dir, "generate_assignment", course.ASSIGNMENT, "--force")


def describe(synced):
    """Lines about the files a sync left alone, backed up or removed."""
    lines = [f"  left alone  {path}  (edited since the last release)" for path in synced.kept]
    lines += [f"  backed up   {path}" for path in synced.backups]
    lines += [f"  removed     {path}  (no longer part of the release)" for path in synced.removed]
    return lines


def main(argv=None):
    """Command line of ``make release``."""
    parser = argparse.ArgumentParser(prog="python -m grader.release", description=__doc__.splitlines()[0])
    parser.add_argument("--student", type=Path, default=ROOT / "dist" / "student", help="the handout folder")
    parser.add_argument("--course", type=Path, default=ROOT / "course", help="the nbgrader course folder")
    parser.add_argument("--force", action="store_true", help="replace edited files too (they are backed up first)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        student = sync(args.student, handout.build(ROOT), args.student.parent / f".{args.student.name}{MANIFEST}",
                       args.force)
        synced, generated = release_course(args.course, ROOT / "solutions", args.force)
    except (StubError, handout.HandoutError, course.CourseError, SyntaxError, OSError) as error:
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
    release = args.course / "release" / course.ASSIGNMENT
    print(f"nbgrader course: {args.course}/ (source/{course.ASSIGNMENT}/, gradebook.db)")
    print(f"Student notebooks: {release}/ ({', '.join(sorted(p.name for p in release.glob('*.ipynb')))})")
    print(f"Collect submissions into {args.course}/submitted/STUDENT/{course.ASSIGNMENT}/, then run `make autograde`.")
    print(f"Released in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
