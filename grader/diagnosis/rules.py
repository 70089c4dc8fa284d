"""The evidence that names a cause: the rules of rules.json, one per pitfall a failure's evidence reveals.

A failed check whose evidence matches no rule is its own cause: the pitfall its check judges. A
rule's pitfall is a check id of the table, where the evidence shows that pitfall (a broadcasting
error in softmax is a missing keepdim wherever it happens), or a kind of failure that is not a
check's pitfall (the stub is not implemented, does not compile, hangs...), whose title and hint
are ``cause.KIND.*`` in the message catalogues. ``{stub}`` in a pitfall is the failing check's stub.
A student handout, which holds no hidden check, gets each rule that names one with its
``fallback`` kind instead.

Evidence is written in the student's language, so a rule that reads the grader's own words names
them by their message ids (``messages``, a leading ^ anchors one at the start): each id matches its
text in every language, whatever its placeholders hold. ``pattern`` is for words that are not the
grader's (torch's own errors, shapes).
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .. import messages


@dataclass(frozen=True)
class Rule:
    """Evidence (a regular expression searched in a failed check's detail) that names a cause."""

    name: str
    pattern: str
    pitfall: str
    stubs: tuple = ()   # the stubs it applies to; empty for all
    fallback: str = ""  # the kind it names where its pitfall is a check the table does not hold
    messages: tuple = ()  # message ids whose text, in any language, is the evidence

    def names(self, stub, detail):
        """The pitfall this rule names for a failure of ``stub`` with ``detail``, or None."""
        if self.stubs and stub not in self.stubs or not re.search(self.regex, detail):
            return None
        return self.pitfall.format(stub=stub)

    @property
    def regex(self):
        """The pattern, or any language's text of the messages (placeholders match anything)."""
        return "|".join([self.pattern] * bool(self.pattern) + [messages.pattern(key) for key in self.messages])


def _rule(row):
    return Rule(row["name"], row.get("pattern", ""), row["pitfall"], tuple(row.get("stubs", ())),
                row.get("fallback", ""), tuple(row.get("messages", ())))


RULES = tuple(_rule(row) for row in json.loads(Path(__file__).with_name("rules.json").read_text(encoding="utf-8")))


def pitfall_of(check):
    """The cause of a failed check: the pitfall the first matching rule names, else the check's own id."""
    return next((name for rule in RULES if (name := rule.names(check.stub, check.detail))), check.id)


def public_rules(hidden):
    """The rules as a student handout holds them: a rule naming one of the ``hidden`` checks names its fallback,
    and the hidden checks' own words (``evidence.hidden.*``, left out of its catalogues) are left out of the rules."""
    rows = []
    for rule in RULES:
        kept = [key for key in rule.messages if not key.lstrip("^").startswith(messages.HIDDEN_EVIDENCE)]
        if rule.pattern or kept:
            rows.append({key: value for key, value in (
                ("name", rule.name), ("pattern", rule.pattern), ("messages", kept),
                ("pitfall", rule.fallback if rule.pitfall in hidden else rule.pitfall), ("stubs", list(rule.stubs)))
                if value})
    return rows
