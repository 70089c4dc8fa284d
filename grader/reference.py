"""The reference solution of a stub, from solutions/: what feedback shows once the course's reference_after
has passed (grader/course.py), never in a handout, which ships no solutions."""
import textwrap
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def regions(text):
    """The code of each solution region of a module's ``text`` under its function's ``def`` line, the task lines
    (``### ...``) left out, dedented."""
    found, region, definition = [], None, ""
    for line in text.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            region = [definition] if definition else []
        elif marker == END and region is not None:
            found.append(textwrap.dedent("\n".join(region)).strip("\n"))
            region = None
        elif region is not None and not marker.startswith("###"):
            region.append(line)
        elif marker.startswith("def "):
            definition = line
    return found


def reference(stub, solutions=SOLUTIONS):
    """The reference code of ``stub`` (its regions, a blank line between them); "" where there is none."""
    try:
        text = (Path(solutions) / f"{stub}.py").read_text(encoding="utf-8")
    except OSError:
        return ""
    return "\n\n".join(region for region in regions(text) if region)
