"""The kit's structure, read from its own imports: no cycles, no private cross-imports, a self-contained runtime."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("grader", "datasets", "bench", "solutions", "exercises")


def modules():
    """{dotted name: path} of every module of the kit's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports(name):
    """(imported module, imported name or None) for every import statement of module ``name``."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module
            for alias in node.names:
                yield (f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base), alias.name


def graph():
    """The kit's import graph: module -> the kit's modules it imports."""
    return {name: {target for target, _ in imports(name) if target in MODULES and target != name} for name in MODULES}


def cycles(edges):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycles():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_another_modules_private_names():
    private = [(name, target, imported) for name in MODULES for target, imported in imports(name)
               if imported and imported.startswith("_") and not imported.startswith("__") and target != name]
    assert private == []


def test_the_sandbox_runtime_imports_nothing_of_the_kit_outside_itself():
    runtime = "grader.sandbox.runtime"
    outside = {(name, target) for name in MODULES if name.startswith(runtime) for target in graph()[name]
               if not target.startswith(runtime)}
    assert outside == set()


def test_starting_a_grading_imports_neither_torch_nor_pytest():
    """The fork server starts before the grader's heavy imports, so that both import torch at the same time."""
    probe = "import sys, grader.run; print(sorted({'torch', 'pytest', 'matplotlib'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def test_the_fork_server_pool_does_not_read_the_check_table():
    assert not any(target == "grader.table" for target in graph()["grader.sandbox.pool"])
