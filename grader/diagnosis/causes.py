"""The causes of a grading's failures: one cause, one card, with every check it cost and its points.

A failed check joins the cause its evidence names (see ``rules``). A failure whose evidence names
none (a wrong value, say) is the same bug as the stub's other failures far more often than a
second one: it joins the stub's largest named cause, or else the stub's first such failure (a
graded one before an exercise). A convergence check that the grader traced to one function (its
``culprit``: the training converges with the grader's own version of it) joins that function's
largest cause, or a cause of its own when none of that function's checks failed. Causes come
largest first; together their points are the points lost.
"""
import math
import re

from .. import messages
from ..results import Cause, Status
from ..table import BY_ID
from .rules import pitfall_of

# the file and line of the evidence: " at f.py:3" as the worker and evidence.at say it, in every language
_WHERE = re.compile("(?:" + "|".join(sorted({re.escape(messages.catalogue(code)["evidence.at"].split("{where}")[0])
                                             for code in messages.LANGUAGES} | {" at "})) + r")([\w.-]+\.py:\d+)")


def diagnose(checks):
    """The causes of the failed checks among ``checks`` (CheckResults), largest first."""
    failed = [check for check in checks if Status.of(check.status) == Status.FAILED]
    groups, unexplained = {}, {}
    for check in (check for check in failed if check.culprit in ("", check.stub)):   # traced to itself: its rules
        pitfall = pitfall_of(check)
        if pitfall == check.id:
            unexplained.setdefault(check.stub, []).append(check)
        else:
            groups.setdefault((pitfall, check.stub), []).append(check)
    for stub, group in unexplained.items():
        named = [key for key in groups if key[1] == stub]
        first = min(group, key=lambda check: (bool(check.exercise), _order(check.id)))
        key = max(named, key=lambda k: _lost(groups[k])) if named else (first.id, stub)
        groups.setdefault(key, []).extend(group)
    for check in (check for check in failed if check.culprit not in ("", check.stub)):
        owned = [key for key in groups if key[1] == check.culprit]
        key = max(owned, key=lambda k: _lost(groups[k])) if owned else ("train_ch3/culprit", check.culprit)
        groups.setdefault(key, []).append(check)
    causes = [_cause(pitfall, stub, group) for (pitfall, stub), group in groups.items()]
    order = list(BY_ID)
    return tuple(sorted(causes, key=lambda cause: (-cause.points, order.index(cause.checks[0]))))


def _order(check_id):
    order = list(BY_ID)
    return order.index(check_id) if check_id in order else len(order)


def _lost(checks):
    """The points the checks lost (a point count that is not a finite number counts as none earned)."""
    return round(sum(max(_finite(check.max_points) - _finite(check.points), 0.0) for check in checks), 2)


def _finite(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def _cause(pitfall, stub, checks):
    """One cause: its checks in table order, the points they lost, its title, hint and evidence."""
    order = list(BY_ID)
    checks = sorted(checks, key=lambda check: order.index(check.id) if check.id in order else len(order))
    shown = next((check for check in checks if check.id == pitfall), checks[0])
    where = _WHERE.search(shown.detail)
    title, hint = _texts(pitfall, stub, shown, where.group(1) if where else "")
    return Cause(pitfall=pitfall, stub=stub, checks=tuple(check.id for check in checks), points=_lost(checks),
                 title=title, hint=hint, evidence=shown.detail, where=where.group(1) if where else "",
                 source=shown.id)


def _texts(pitfall, stub, shown, where):
    """The cause's title and hint: a check's own for a check's pitfall, the catalogue's for a kind."""
    if pitfall in BY_ID:
        return BY_ID[pitfall].title, BY_ID[pitfall].hint
    place = messages.text("cause.where", where=where) if where else ""
    values = dict(stub=stub, culprit=stub, where=place, why=shown.detail.split(":")[0])
    return messages.text(f"cause.{pitfall}.title", **values), messages.text(f"cause.{pitfall}.hint", **values)
