"""The gradebook in the column layouts that Canvas and Moodle import, one function per LMS.

Canvas (Grades → Import): the columns of its own gradebook export, ``Student``, ``ID``, ``SIS User
ID``, ``SIS Login ID``, ``Section``, then one column per assignment named ``Name (id)``, and a
``Points Possible`` row; Canvas matches each row by ``ID`` (its user id, the roster's ``lms_id``) or
by the SIS ids. Moodle (Grade administration → Import → CSV file): a header row and one row per
student; the import maps ``Email address`` (or ``ID number``) to its users and the assignment's
column to the grade item. Rows are written only for students the roster identifies: a row Canvas
or Moodle cannot match would be refused there, so those are listed instead.
"""
import csv
import io

from .gradebook import GRADED, cell, number


def _rows(rows):
    """(rows the LMS can match, student names of those it cannot)."""
    known = [row for row in rows if row.student is not None]
    return known, [row.record.student for row in rows if row.student is None]


def _score(row):
    """The adjusted total of a graded submission; 0 for a missing, empty or failed one."""
    return number(row.adjusted) if row.record.status == GRADED else "0"


def canvas(rows, settings, maximum):
    """(Canvas's gradebook CSV text, the students left out)."""
    known, left_out = _rows(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("Student", "ID", "SIS User ID", "SIS Login ID", "Section", settings.assignment))
    writer.writerow(("Points Possible", "", "", "", "", number(maximum)))
    for row in known:
        who = row.student
        writer.writerow((cell(who.name or row.record.student), cell(who.lms_id), cell(who.student_id),
                         cell(who.login or who.email), cell(who.section), _score(row)))
    return buffer.getvalue(), left_out


def moodle(rows, settings):
    """(Moodle's grade import CSV text, the students left out)."""
    known, left_out = _rows(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("Full name", "Email address", "ID number", settings.assignment, "Feedback"))
    for row in known:
        who, note = row.student, " ".join(row.record.note.split())
        if row.lateness is not None and row.lateness.note:
            note = " ".join(filter(None, [note, row.lateness.note]))
        writer.writerow((cell(who.name or row.record.student), cell(who.email), cell(who.student_id),
                         _score(row), cell(note)))
    return buffer.getvalue(), left_out
