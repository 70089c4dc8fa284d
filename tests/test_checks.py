"""The checks of ``make grade`` as pytest items, one per check id, graded as ``make grade`` grades them.

``pytest`` grades the submission once, in the grader's own sandboxed processes, and reports each
check as a test named by its id: ``pytest -k softmax`` narrows like ``ONLY=softmax``, a failure
shows its cause's hint and evidence, and an editor's test explorer lists and runs them. A check
of one of the book's exercises that is not solved yet is an expected failure (it is worth no
points). ``D2L_KIT_SUBMISSION`` names the folder to grade (default: exercises/).
"""
import json
import os
from pathlib import Path

import pytest

from grader import child
from grader.table import CHECKS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def verdicts(request, tmp_path_factory):
    """The verdicts of one grading of the checks this session selected."""
    wanted = [item.callspec.params["check_id"] for item in request.session.items
              if getattr(item, "callspec", None) and "check_id" in item.callspec.params]
    out = tmp_path_factory.mktemp("grading")
    child.run(os.environ.get("D2L_KIT_SUBMISSION") or ROOT / "exercises", out, only=",".join(wanted))
    return json.loads((out / "verdicts.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("check_id", [check.id for check in CHECKS])
def test_check(check_id, verdicts):
    found = verdicts["checks"].get(check_id)
    if found is None:
        pytest.fail(f"no verdict: {verdicts.get('error') or 'the grader reported nothing for it'}", pytrace=False)
    if found["status"] == "not run":
        pytest.skip(found["detail"])
    if found["status"] == "passed":
        return
    if BY_EXERCISE.get(check_id):
        pytest.xfail(f"an exercise of the book ({BY_EXERCISE[check_id]}), not graded: {found['hint']}")
    cause = next((cause for cause in verdicts.get("causes", []) if check_id in cause["checks"]), None)
    pytest.fail(explained(found, cause), pytrace=False)


def explained(found, cause):
    """A failure as the report shows it: its cause (pitfall, checks and points it cost), the hint, the evidence."""
    if cause is None:
        return "\n".join(text for text in (found["hint"], found["detail"]) if text)
    name = f"{cause['pitfall']}: {cause['title']}" if "/" in cause["pitfall"] else cause["title"]
    cost = f"(this cause costs {len(cause['checks'])} check(s), {cause['points']} points: {', '.join(cause['checks'])})"
    return "\n".join(text for text in (name, cost, cause["hint"], cause["evidence"] or found["detail"]) if text)


BY_EXERCISE = {check.id: check.exercise for check in CHECKS}
