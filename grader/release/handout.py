"""The student handout: exercises, the grader without its hidden checks, datasets, Makefile and README.

Built by leaving files out, never by editing source: the release and class-grading packages, the
hidden checks (grader/checks/hidden/) and the grader's own softmax, cross-entropy and SGD
(stand_ins.py of the sandbox runtime) stay behind. Three files are generated from data: the table (its public rows and a
count of the hidden checks), the message catalogues (without the hidden checks' texts) and the
diagnosis rules (a rule that names a hidden check names its fallback kind instead).
"""
import json
from pathlib import Path
from string import Template

from .. import course, messages, table
from ..diagnosis.rules import public_rules
from .stubgen import expected_exercises

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("grader", "datasets")
LEFT_OUT = ("grader/release", "grader/classroom", "grader/checks/hidden", "grader/sandbox/runtime/stand_ins.py")
COPIED = {"pyproject.toml": "pyproject.toml", "uv.lock": "uv.lock", ".gitignore": ".gitignore",
          "common.mk": "common.mk", "handout/Makefile": "Makefile", "tests/test_checks.py": "tests/test_checks.py"}


READMES = {"README.md": "en", "README.zh-CN.md": "zh_CN"}


def package_files(root):
    """(path in the handout, file) of every file of the packages, less what the handout leaves out."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and not name.startswith(LEFT_OUT):
                yield name, path


def public_catalogue(language):
    """A message catalogue without the texts of the hidden checks."""
    secret = {f"check.{check.id}." for check in table.CHECKS if check.hidden} | {messages.HIDDEN_EVIDENCE}
    kept = {key: text for key, text in messages.catalogue(language).items() if not key.startswith(tuple(secret))}
    return json.dumps(kept, indent=1, ensure_ascii=False) + "\n"


def public_table():
    """table.json with the public rows and, per stub, the count and points of the hidden checks."""
    data = table.rows(public_only=True)
    lines = ",\n".join("  " + json.dumps(row) for row in data.pop("checks"))
    head = json.dumps({key: data[key] for key in ("stubs", "total")})[1:-1]
    return f'{{{head},\n "checks": [\n{lines}\n ],\n "hidden": {json.dumps(data["hidden"])}\n}}\n'


def student_readme(template, language="en"):
    """The student README: the template with the public and hidden checks filled in, in ``language``."""
    public = [check for check in table.CHECKS if not check.hidden]
    return Template(template).substitute(public_count=len(public), public_points=sum(c.points for c in public),
                                         hidden_summary=table.hidden_summary(language))


def build(root=ROOT, language="en", settings=None):
    """Map each handout file's path (relative to the handout folder) to its bytes; the stubs' comments and the
    handout's default language are ``language`` (students may still choose theirs); ``settings`` are the
    course's (grader/course.json)."""
    root, language = Path(root), messages.NAMES[language]
    files = {f"exercises/{name}": text.encode()
             for name, text in expected_exercises(root / "solutions", language).items()}
    files.update({name: path.read_bytes() for name, path in package_files(root)})
    files["grader/table.json"] = public_table().encode()
    hidden = {check.id for check in table.CHECKS if check.hidden}
    rules = ",\n".join(" " + json.dumps(rule, ensure_ascii=False) for rule in public_rules(hidden))
    files["grader/diagnosis/rules.json"] = f"[\n{rules}\n]\n".encode()
    for code in messages.LANGUAGES:
        files[f"grader/messages/{code}.json"] = public_catalogue(code).encode()
    files["grader/messages/release.json"] = messages.release_file(language).encode()
    files["grader/course.json"] = course.json_text(settings or course.CourseSettings()).encode()
    files.update({target: (root / source).read_bytes() for source, target in COPIED.items()})
    for name, code in READMES.items():
        template = (root / "handout" / name).read_text(encoding="utf-8")
        files[name] = student_readme(template, code).encode()
    return files
