"""Generate the student stubs in exercises/ from the reference solutions in solutions/.

A solution body sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
delimiters). Lines inside the region that start with ``### `` are the task text the student
sees; the generator keeps them as comments, drops the code, and ends the stub with
``raise NotImplementedError()``. Files without a region are copied as they are.

That task text is the English; a stub in another language takes its translation from the message
catalogue, under ``stub.<module>.<function>`` (``both``: the Chinese, then the English).
"""
import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import messages
from ..files import write_atomic
from ..reference import BEGIN, END

TASK_TEXT = re.compile(r"^(\s*)### ?(.*)$")   # a line of the task text inside a solution region
DEFINITION = re.compile(r"^\s*def (\w+)\(")
ROOT = Path(__file__).resolve().parents[2]


class StubError(ValueError):
    """A solution file whose solution regions cannot be turned into a stub."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one exercise file: created, unchanged, overwritten or kept."""

    name: str
    action: str
    backup: Path | None = None


def make_stub(source, filename="<solution>", language="en"):
    """Replace every solution region of ``source`` with its task text (in ``language``) and a NotImplementedError."""
    out, region, function = [], None, ""
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if region is not None:
                raise StubError(f"{filename}:{number}: {BEGIN} inside an open region (line {region[0]})")
            region = (number, line[: len(line) - len(line.lstrip())], [])
        elif marker == END:
            if region is None:
                raise StubError(f"{filename}:{number}: {END} without a matching {BEGIN}")
            out.extend(_stub_lines(region[1], task_text(region[2], task_key(filename, function), language)))
            region = None
        elif region is None:
            out.append(line)
            function = (DEFINITION.match(line) or [None, function])[1]
        elif (text := TASK_TEXT.match(line)) is not None:
            region[2].append(text.group(2))
    if region is not None:
        raise StubError(f"{filename}:{region[0]}: {BEGIN} is never closed by {END}")
    return "".join(out)


def task_key(filename, function):
    """The catalogue id of the task text of ``function`` in the solution module ``filename``."""
    return f"stub.{Path(filename).stem}.{function}"


def task_text(english, key, language="en"):
    """The lines of a region's task text in ``language``: the solution's own English, or the catalogue's
    translation under ``key``; ``both``: the Chinese, then the English."""
    language = messages.NAMES.get(language or "en", language)
    if language == "en" or not english:
        return english
    translated = messages.catalogue("zh_CN").get(key)
    if translated is None:
        raise StubError(f"no Chinese task text {key!r} in grader/messages/zh_CN.json")
    return translated.splitlines() + (english if language == messages.BOTH else [])


def _stub_lines(indent, task_text):
    """The stub body that stands in for one solution region."""
    lines = task_text or ["TODO: implement this function."]
    return [f"{indent}# {text}".rstrip() + "\n" for text in lines] + [f"{indent}raise NotImplementedError()\n"]


def expected_exercises(solutions_dir, language="en"):
    """Map each exercise file name to the text the generator produces for it, in ``language``."""
    stubs = {}
    for path in sorted(Path(solutions_dir).glob("*.py")):
        stub = make_stub(path.read_text(encoding="utf-8"), filename=str(path), language=language)
        compile(stub, str(path), "exec")
        stubs[path.name] = stub
    if not stubs:
        raise StubError(f"no solution modules found in {solutions_dir}")
    return stubs


def out_of_sync(solutions_dir, exercises_dir, language="en"):
    """Names of exercise files that are missing or differ from what the generator produces."""
    target = Path(exercises_dir)
    return [name for name, text in expected_exercises(solutions_dir, language).items()
            if not (target / name).is_file() or (target / name).read_text(encoding="utf-8") != text]


def generate(solutions_dir, exercises_dir, force=False, language="en"):
    """Write the stubs in ``language``; an exercise that differs from its stub (in every language) is kept unless
    ``force`` (then backed up): an untouched stub in another language is replaced, an edited one never."""
    target = Path(exercises_dir)
    target.mkdir(parents=True, exist_ok=True)
    untouched = [expected_exercises(solutions_dir, code) for code in (*messages.LANGUAGES, messages.BOTH)]
    outcomes = []
    for name, text in expected_exercises(solutions_dir, language).items():
        path = target / name
        if not path.exists():
            write_atomic(path, text)
            outcomes.append(Outcome(name, "created"))
        elif path.read_text(encoding="utf-8") == text:
            outcomes.append(Outcome(name, "unchanged"))
        elif path.read_text(encoding="utf-8") in (stubs.get(name) for stubs in untouched):
            write_atomic(path, text)
            outcomes.append(Outcome(name, "translated"))
        elif force:
            backup = _backup(path)
            write_atomic(path, text)
            outcomes.append(Outcome(name, "overwritten", backup))
        else:
            outcomes.append(Outcome(name, "kept"))
    return outcomes


def _backup(path):
    """Copy ``path`` to the first free ``NAME.bak``, ``NAME.bak2``, ... and return the copy's path."""
    for number in range(1, 10_000):
        candidate = path.with_name(path.name + (".bak" if number == 1 else f".bak{number}"))
        if not candidate.exists():
            write_atomic(candidate, path.read_bytes())
            return candidate
    raise StubError(f"too many backups of {path} already exist")


def describe(outcomes, exercises_dir):
    """The summary printed by ``make exercises``."""
    lines = []
    for outcome in outcomes:
        where = Path(exercises_dir) / outcome.name
        if outcome.action == "kept":
            lines.append(f"  kept        {where}  (differs from the generated stub: your edits are left alone)")
        elif outcome.action == "overwritten":
            lines.append(f"  regenerated {where}  (previous version saved as {outcome.backup})")
        elif outcome.action == "created":
            lines.append(f"  created     {where}")
        elif outcome.action == "translated":
            lines.append(f"  translated  {where}  (it was an untouched stub in another language)")
    kept = sum(o.action == "kept" for o in outcomes)
    unchanged = sum(o.action == "unchanged" for o in outcomes)
    lines.append(f"{len(outcomes)} files: {unchanged} already up to date, {kept} left alone.")
    if kept:
        lines.append("To regenerate the files left alone (a backup of each is kept): make exercises FORCE=1")
    return "\n".join(lines)


def main(argv=None):
    """Command line of ``make exercises``."""
    parser = argparse.ArgumentParser(prog="python -m grader.release.stubgen", description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    parser.add_argument("--force", action="store_true", help="regenerate edited stubs too (backups are kept)")
    parser.add_argument("--check", action="store_true", help="only report stubs that are missing or out of date")
    parser.add_argument("--lang", default="en", choices=sorted(messages.NAMES),
                        help="language of the TODO and Pitfall comments: en (default), zh or both")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = out_of_sync(args.solutions, args.exercises, args.lang)
            for name in stale:
                print(f"out of date: {args.exercises / name}")
            print("exercises/ matches the generator." if not stale else "Run `make exercises` to regenerate.")
            return 1 if stale else 0
        outcomes = generate(args.solutions, args.exercises, force=args.force, language=args.lang)
    except (StubError, SyntaxError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(describe(outcomes, args.exercises))
    return 0


if __name__ == "__main__":
    sys.exit(main())
