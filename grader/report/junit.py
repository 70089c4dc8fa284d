"""JUnit XML: one testsuite, one testcase per check, failures and skips with their messages."""
import re
import xml.etree.ElementTree as ET

from .. import messages
from ..results import Status
from .text import MARKS, number, ordered, status_of, visible

SUITE = "d2l-linear-kit"
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def to_junit(report):
    """The report as JUnit XML text."""
    checks = ordered(report)
    counts = {status: sum(status_of(check) == status for check in checks) for status in MARKS}
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=SUITE, tests=str(len(checks) + bool(report.error)),
                          failures=str(counts[Status.FAILED]), errors=str(int(bool(report.error))),
                          skipped=str(counts[Status.NOT_RUN]), time=_seconds(report.seconds))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("seed", report.seed), ("device", report.device)):
        ET.SubElement(properties, "property", name=name, value=_xml(value))
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=_xml(check.stub), name=_xml(check.id),
                             time=_seconds(check.seconds))
        if status_of(check) == Status.NOT_RUN:
            why = check.detail or check.hint
            ET.SubElement(case, "skipped", message=_xml(messages.text("report.not-run", why=why)))
        elif status_of(check) != Status.PASSED:
            ET.SubElement(case, "failure", message=_xml(check.hint)).text = _xml(check.detail)
    if report.error:
        case = ET.SubElement(suite, "testcase", classname="grader", name="grader/error", time="0.000")
        ET.SubElement(case, "error", message=_xml(messages.text("report.error.name"))).text = _xml(report.error)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml(text):
    """Text that XML 1.0 can hold: control characters escaped, anything still illegal stripped."""
    return _XML_ILLEGAL.sub("", visible(text))


def _seconds(value):
    """Seconds as JUnit writes them, non-finite values as 0."""
    return f"{max(number(value), 0.0):.3f}"
