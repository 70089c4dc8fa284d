"""The evidence that names a cause: the rules of rules.json, one per pitfall a failure's evidence reveals.

A failed check whose evidence matches no rule is its own cause: the pitfall its check judges. A
rule's pitfall is a check id of the table, where the evidence shows that pitfall (a broadcasting
error in softmax is a missing keepdim wherever it happens), or a kind of failure that is not a
check's pitfall (the stub is not implemented, does not compile, hangs...), whose title and hint
are ``cause.KIND.*`` in the message catalogues. ``{stub}`` in a pitfall is the failing check's stub.
A student handout, which holds no hidden check, gets each rule that names one with its
``fallback`` kind instead.
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """Evidence (a regular expression searched in a failed check's detail) that names a cause."""

    name: str
    pattern: str
    pitfall: str
    stubs: tuple = ()   # the stubs it applies to; empty for all
    fallback: str = ""  # the kind it names where its pitfall is a check the table does not hold

    def names(self, stub, detail):
        """The pitfall this rule names for a failure of ``stub`` with ``detail``, or None."""
        if self.stubs and stub not in self.stubs or not re.search(self.pattern, detail):
            return None
        return self.pitfall.format(stub=stub)


RULES = tuple(Rule(row["name"], row["pattern"], row["pitfall"], tuple(row.get("stubs", ())), row.get("fallback", ""))
              for row in json.loads(Path(__file__).with_name("rules.json").read_text(encoding="utf-8")))


def pitfall_of(check):
    """The cause of a failed check: the pitfall the first matching rule names, else the check's own id."""
    return next((name for rule in RULES if (name := rule.names(check.stub, check.detail))), check.id)


def public_rules(hidden):
    """The rules as a student handout holds them: a rule naming one of the ``hidden`` checks names its fallback."""
    return [{key: value for key, value in (("name", rule.name), ("pattern", rule.pattern),
                                           ("pitfall", rule.fallback if rule.pitfall in hidden else rule.pitfall),
                                           ("stubs", list(rule.stubs))) if value}
            for rule in RULES]
