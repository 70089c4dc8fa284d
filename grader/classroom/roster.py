"""The class roster: who the submissions belong to, and who submitted nothing.

An optional CSV with a header row; ``student_id`` is required, ``name``, ``email``, ``lms_id`` (the
LMS's own id of the student: Canvas's user id, Moodle's participant id), ``login``, ``section`` and
``submitted_at`` (ISO 8601) are optional. A submission is matched by the first of: its LMS id, its
name as a student id, login or email (or the part before the @), then its name as the student's
name in either order ("smithjane" from Canvas is "Jane Smith").
"""
import csv
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

COLUMNS = ("student_id", "name", "email", "lms_id", "login", "section", "submitted_at")


class RosterError(ValueError):
    """A roster that cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class Student:
    """One row of the roster."""

    student_id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    login: str = ""
    section: str = ""
    submitted_at: datetime | None = None


def read(path):
    """The students of the roster CSV at ``path``."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"cannot read the roster {path} ({error})") from None
    headers = {(key or "").strip().lower() for row in rows[:1] for key in row}
    if rows and "student_id" not in headers:
        raise RosterError(f"the roster {path} has no student_id column (its columns: {', '.join(sorted(headers))}); "
                          f"known columns: {', '.join(COLUMNS)}")
    students = [_student(row, path, number) for number, row in enumerate(rows, start=2)]
    ids = [student.student_id for student in students]
    twice = sorted({student_id for student_id in ids if ids.count(student_id) > 1})
    if twice:
        raise RosterError(f"the roster {path} lists {', '.join(twice)} more than once")
    return students


def _student(row, path, line):
    values = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
    if not values.get("student_id"):
        raise RosterError(f"{path}:{line}: a row without a student_id")
    when = values.get("submitted_at", "")
    try:
        moment = datetime.fromisoformat(when).astimezone() if when else None
    except ValueError:
        raise RosterError(f"{path}:{line}: submitted_at {when!r} is not a date and time such as "
                          "2026-12-20T23:59:00+08:00") from None
    return Student(values["student_id"], values.get("name", ""), values.get("email", ""), values.get("lms_id", ""),
                   values.get("login", ""), values.get("section", ""), moment)


def _plain(text):
    return re.sub(r"[\W_]+", "", text.casefold())


def _names(student):
    """The spellings a submission's name may take for this student: the name, and its words reversed."""
    words = student.name.split()
    return {_plain(student.name), _plain("".join(reversed(words)))} - {""}


def match(submissions, students):
    """({student name of a submission: roster row}, names of unmatched submissions, roster rows without one)."""
    matched, unmatched = {}, []
    by_key = [{s.lms_id: s for s in students if s.lms_id},
              {key: s for s in students for key in (s.student_id, s.login, s.email, s.email.split("@")[0]) if key},
              {key: s for s in students for key in _names(s)}]
    for item in submissions:
        keys = (item.lms_id, item.student, _plain(item.student))
        found = next((table[key] for table, key in zip(by_key, keys) if key and key in table), None)
        if found is None or found in matched.values():
            unmatched.append(item.student)
        else:
            matched[item.student] = found
    missing = [student for student in students if student not in matched.values()]
    return matched, unmatched, missing
