"""What the from-scratch checks read in a student's file: references to torch's own softmax or loss.

The second signal beside the calls the worker records: an attribute or an imported name, in the
function's own body, that stands for one of torch's softmax, log-softmax, logsumexp or
cross-entropy functions. Text in comments and strings does not count.
"""
import ast

FORBIDDEN = {"softmax", "log_softmax", "logsumexp", "cross_entropy", "nll_loss", "Softmax", "LogSoftmax",
             "CrossEntropyLoss", "NLLLoss"}


def library_references(source, function):
    """The library calls ``function``'s body refers to in ``source``, as written there (e.g. ``F.softmax``)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    aliases = {alias.asname or alias.name: f"{node.module}.{alias.name}" for node in tree.body
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch")
               for alias in node.names if alias.name in FORBIDDEN}
    body = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function), None)
    found = []
    for node in ast.walk(body) if body is not None else ():
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in aliases:
            found.append(f"{node.id} ({aliases[node.id]})")
    return sorted(set(found))


def expect_from_scratch(called, source, function, shown):
    """Fail when ``function`` called one of torch's own functions (recorded) or refers to one (read)."""
    from grader import messages
    from grader.harness import CheckFailed
    used = sorted(set(called.library))
    read = library_references(source, function)
    if used or read:
        what = ", ".join(used) if used else ", ".join(read)
        key = "evidence.from-scratch.called" if used else "evidence.from-scratch.refers"
        raise CheckFailed(messages.text(key, call=shown, what=what, function=function))
