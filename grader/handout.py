"""The student handout: exercises, the grader with the public checks only, datasets, Makefile, README.

Built from solutions/ and the check table alone. A hidden check's function is cut out of its check
module with ``ast`` (with every helper only it used), the table keeps the public checks and a count
of the hidden ones, and the Makefile loses the instructor's targets.
"""
import ast
import re
from pathlib import Path
from string import Template

from .stubgen import expected_exercises
from .table import CHECKS, STUBS

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR_ONLY = {"stubgen.py", "course.py", "nbhooks.py", "handout.py", "release.py", "autograde.py",
                   "batch.py", "gradebook.py", "gradescope.py"}
INSTRUCTOR_TARGETS = ("test", "exercises", "check-exercises", "release", "autograde", "grade-all", "gradescope", "bench")
INSTRUCTOR_VARIABLES = ("PYTEST_ARGS", "FORCE", "COURSE", "STUDENT", "SUBMISSIONS", "JOBS", "TIMEOUT", "QUICK",
                        "CLASS_OUT")
COPIED = ("pyproject.toml", "uv.lock", ".gitignore")
COVERAGE = {  # what the hidden checks of each stub cover, never how
    "synthetic_data": "the statistics of the generated data",
    "data_iter": "batch sizes that do not divide the number of examples",
    "squared_loss": "the shapes of the labels",
    "sgd": "how the parameters and their gradients are updated",
    "softmax": "numerical stability, batch shapes and devices",
    "cross_entropy": "numerical stability, indexing and devices",
    "accuracy": "other forms of predictions, and devices",
    "train_ch3": "training to convergence on the real Fashion-MNIST, evaluation, optimizers and GPUs",
}
_VALIDATE = "if sum(check.points for check in CHECKS) != 100:"


class HandoutError(ValueError):
    """The kit's sources cannot be turned into a handout (a check module or the table changed shape)."""


def hidden():
    return [check for check in CHECKS if check.hidden]


def hidden_summary():
    """The note the handout's grader prints: how many hidden checks there are and what they cover."""
    checks = hidden()
    lines = [f"The instructor's grader also runs {len(checks)} hidden checks "
             f"({sum(c.points for c in checks)} points) that this handout does not contain:"]
    for stub in STUBS:
        mine = [check for check in checks if check.stub == stub]
        if mine:
            count = f"{len(mine)} check{'s' * (len(mine) > 1)}, {sum(c.points for c in mine)} points"
            lines.append(f"  {stub:<15} {count:<20} {COVERAGE[stub]}")
    return "\n".join(lines)


def _span(node):
    """First and last line of a top-level statement, decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]), node.end_lineno


def _check_id(node):
    for decorator in getattr(node, "decorator_list", []):
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "check" and decorator.args:
            return ast.literal_eval(decorator.args[0])
    return None


def _bound(node):
    """The names a top-level statement binds, when it binds nothing else than names."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        return {t.id for t in node.targets}
    return set()


def public_only(source, filename="check.py"):
    """A check module without its hidden checks, nor the helpers, constants and imports only they used."""
    tree = ast.parse(source, filename=filename)
    secret = {check.id for check in hidden()}
    body = [node for node in tree.body if _check_id(node) not in secret]
    while True:
        used = {n.id for node in body for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        keep = [node for node in body if not _bound(node) or _bound(node) & used or _check_id(node)]
        if len(keep) == len(body):
            break
        body = keep
    lines, kept = source.splitlines(keepends=True), {id(node) for node in body}
    for node in reversed(tree.body):
        first, last = _span(node)
        if id(node) not in kept:
            lines[first - 1:last] = []
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            lines[first - 1:last] = _imports_used(node, used)
    return re.sub(r"\n{4,}", "\n\n\n", "".join(lines)).rstrip("\n") + "\n"


def _imports_used(node, used):
    """An import statement reduced to the names still used (nothing when none is)."""
    names = [alias for alias in node.names if (alias.asname or alias.name).split(".")[0] in used]
    if not names:
        return []
    node.names = names
    return [ast.unparse(node) + "\n"]


def without_given_accuracy(source):
    """probes.py without the known-good accuracy it hands train_ch3 (it is a solution): the student's is used."""
    tree, given = ast.parse(source), "_given_accuracy_module"
    spans = [_span(node) for node in tree.body if getattr(node, "name", "") == given]
    spans += [_span(node) for node in ast.walk(tree) if isinstance(node, ast.If) and any(
        isinstance(call, ast.Call) and getattr(call.func, "id", "") == given for statement in node.body
        for call in ast.walk(statement) if not isinstance(statement, ast.If))]
    if len(spans) != 2:
        raise HandoutError(f"grader/probes.py no longer has the {given} this expects; the handout would leak it")
    lines = source.splitlines(keepends=True)
    for first, last in sorted(spans, reverse=True):
        lines[first - 1:last] = []
    return re.sub(r"\n{4,}", "\n\n\n", "".join(lines))


def student_table(source):
    """grader/table.py with only the public checks, the hidden points and the note about them."""
    tree = ast.parse(source)
    checks = next((node.value for node in tree.body if isinstance(node, ast.Assign)
                   and getattr(node.targets[0], "id", "") == "CHECKS"), None)
    if checks is None or _VALIDATE not in source:
        raise HandoutError("grader/table.py no longer has the CHECKS tuple and the 100-point check this expects")
    lines = source.splitlines(keepends=True)
    for call in reversed(checks.elts):
        if ast.literal_eval(call.args[2]) == "hidden":
            lines[call.lineno - 1:call.end_lineno] = []
    points = sum(check.points for check in hidden())
    text = "".join(lines).replace(_VALIDATE, _VALIDATE.replace("!= 100", "+ HIDDEN_POINTS != 100"))
    extra = f"HIDDEN_POINTS = {points}  # in checks the instructor runs; this handout does not contain them\n"
    lines = hidden_summary().splitlines()
    note = "".join(f"\n    {piece!r}" for piece in [line + "\n" for line in lines[:-1]] + lines[-1:])
    extra += f"HIDDEN_NOTE = ({note}\n)\n\n\n"
    return text.replace("def checks_for(", extra + "def checks_for(", 1)


def student_makefile(source):
    """The kit's Makefile without the instructor's targets; ``make train`` trains the exercises."""
    out, skipping = [], False
    for line in source.splitlines(keepends=True):
        target, variable = re.match(r"^([a-z-]+):", line), re.match(r"^([A-Z_]+) *[:?]?=", line)
        if target:
            skipping = target.group(1) in INSTRUCTOR_TARGETS
        elif not line.startswith("\t"):
            skipping = False
        if line.startswith(".PHONY:"):
            line = " ".join(word for word in line.split() if word not in INSTRUCTOR_TARGETS) + "\n"
        if variable and variable.group(1) in INSTRUCTOR_VARIABLES:
            while out and out[-1].startswith("#"):   # the comment that explains the variable goes with it
                out.pop()
        elif not skipping:
            out.append(line)
    text = "".join(out).replace("PACKAGE ?= solutions", "PACKAGE ?= exercises").replace(" bench/results.json", "")
    return re.sub(r"\n{3,}", "\n\n", text)


def student_readme(template):
    """The student README: the template with the public and hidden checks filled in."""
    public = [check for check in CHECKS if not check.hidden]
    return Template(template).substitute(public_count=len(public), public_points=sum(c.points for c in public),
                                         hidden_summary=hidden_summary())


def build(root=ROOT):
    """Map each handout file's path (relative to the handout folder) to its bytes."""
    root = Path(root)
    files = {f"exercises/{name}": text.encode() for name, text in expected_exercises(root / "solutions").items()}
    for path in sorted((root / "grader").glob("*.py")):
        if path.name not in INSTRUCTOR_ONLY:
            files[f"grader/{path.name}"] = path.read_bytes()
    files["grader/table.py"] = student_table((root / "grader" / "table.py").read_text(encoding="utf-8")).encode()
    probes = (root / "grader" / "probes.py").read_text(encoding="utf-8")
    files["grader/probes.py"] = without_given_accuracy(probes).encode()
    for path in sorted((root / "grader" / "checks").iterdir()):
        if path.name.startswith("check_") and path.suffix == ".py":
            files[f"grader/checks/{path.name}"] = public_only(path.read_text(encoding="utf-8"), str(path)).encode()
        elif path.is_file() and path.suffix in (".py", ".ini"):
            files[f"grader/checks/{path.name}"] = path.read_bytes()
    for path in sorted((root / "datasets").glob("*.py")):
        files[f"datasets/{path.name}"] = path.read_bytes()
    files["Makefile"] = student_makefile((root / "Makefile").read_text(encoding="utf-8")).encode()
    files["README.md"] = student_readme((root / "handout" / "README.md").read_text(encoding="utf-8")).encode()
    for name in COPIED:
        files[name] = (root / name).read_bytes()
    return files
