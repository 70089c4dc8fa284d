"""What a class run writes once its gradings are done: the gradebook (with the roster and the late policy
applied to the records), its Canvas and Moodle layouts, the similar submissions and the class report.

Records flow in, files flow out: nothing here grades or changes a record.
"""
from ..files import write_atomic
from . import class_report, exports, gradebook, roster, similarity
from .deadlines import lateness
from .gradebook import ERROR, MISSING, Record, Row

FILES = {"gradebook": "gradebook.csv", "canvas": "gradebook.canvas.csv", "moodle": "gradebook.moodle.csv"}


def identity(item, matched):
    """The roster row of a submission; without a roster, what an LMS-named submission says of its student."""
    if item.student in matched:
        return matched[item.student]
    if item.lms_id and not matched:
        return roster.Student(student_id="", name=item.student, lms_id=item.lms_id)
    return None


def rows(found, unusable, records, settings, students=None):
    """One Row per submission, per unusable entry that names a student, and per roster student without either."""
    matched, unmatched, missing = roster.match(found, students) if students else ({}, [], [])
    result = []
    for item in found:
        who = identity(item, matched)
        when, source = ((who.submitted_at, "roster") if who is not None and who.submitted_at
                        else (item.submitted_at, "archive" if item.submitted_at else ""))
        result.append(Row(records[item.student], who, lateness(settings, when, source, item.late)))
    result += [Row(Record(student=item.student, status=ERROR, seconds=0.0, note=item.why)) for item in unusable
               if item.student]
    result += [Row(Record(student=student.student_id, status=MISSING, seconds=0.0, note="no submission"), student)
               for student in missing]
    return sorted(result, key=lambda row: row.record.student), unmatched


def write(out, found, unusable, records, settings, students=None):
    """Write the gradebook and its LMS layouts under ``out``; (the rows, unmatched submissions, left out of the
    LMS layouts)."""
    table, unmatched = rows(found, unusable, records, settings, students)
    write_atomic(out / FILES["gradebook"], gradebook.to_csv(table))
    maximum = max((row.record.max for row in table), default=0)
    canvas, left_out = exports.canvas(table, settings, maximum)
    write_atomic(out / FILES["canvas"], canvas)
    write_atomic(out / FILES["moodle"], exports.moodle(table, settings)[0])
    return table, unmatched, left_out


def write_class(out, found, rows):
    """Write similar.csv and class.html (for the instructor only) for the gradebook's ``rows``; the class report's
    terminal lines."""
    pairs = similarity.find([(item.student, item.folder) for item in found])
    similar = similarity.write_csv(pairs, out / similarity.NAME)
    summary = class_report.summarise(out, pairs, [row.record for row in rows])
    page = class_report.write(out, summary=summary)
    return [*class_report.terminal_lines(summary),
            f"Class report: {page} (similar submissions: {similar}; for the instructor only)"]
