"""A class's grading records: one small record per student, and the gradebook CSV rebuilt from them."""
import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..files import write_atomic
from ..table import CHECKS, STUBS

GRADED, TIMEOUT, ERROR, EMPTY = "graded", "timeout", "error", "empty"
FINAL = (GRADED, TIMEOUT, ERROR, EMPTY)
RECORD = "record.json"
IDENTITY = ("student_id", "name", "email", "lms_id", "section")   # from the roster, where there is one
LATE = ("submitted_at", "late_by", "scale", "adjusted")
COLUMNS = ("student", *IDENTITY, *STUBS, *(check.id for check in CHECKS), "total", "max", *LATE, "status", "note",
           "seconds")
MISSING = "missing"   # a student of the roster without a submission
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".git"}


@dataclass(frozen=True)
class Record:
    """How one student's grading ended: scores per stub, the totals, time, status and why."""

    student: str
    status: str                   # GRADED, TIMEOUT, ERROR or EMPTY (nothing to grade)
    seconds: float
    scores: dict = field(default_factory=dict)   # stub -> points earned
    total: float = 0.0
    max: float = 0.0
    note: str = ""
    fingerprint: str = ""         # names, sizes and times of the submission's files when it was graded
    settings: dict = field(default_factory=dict)  # seed, device and time limit of the run
    checks: dict = field(default_factory=dict)    # check id -> points earned


@dataclass(frozen=True)
class Row:
    """One gradebook row: a student's record, their roster entry (or None) and the late policy's verdict."""

    record: Record
    student: object = None      # a roster.Student
    lateness: object = None     # a deadlines.Lateness

    @property
    def adjusted(self):
        return self.lateness.adjusted(self.record.total) if self.lateness is not None else self.record.total


def fingerprint(folder):
    """A cheap identity of a submission's content: every file's path, size and modification time."""
    entries = []
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if SKIPPED_PARTS.intersection(relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        entries.append(f"{relative.as_posix()}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def save(record, folder):
    """Write the record into the student's report folder atomically."""
    data = json.dumps(asdict(record), indent=2, ensure_ascii=False) + "\n"
    write_atomic(Path(folder) / RECORD, data)


def load(folder):
    """The record in ``folder``, or None when there is none or it cannot be read."""
    try:
        data = json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
        return Record(**data)
    except (OSError, ValueError, TypeError):
        return None


def to_csv(rows):
    """The gradebook as CSV text: one row per student, in the order given (Rows, or bare Records)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        row = row if isinstance(row, Row) else Row(row)
        record, who, late = row.record, row.student, row.lateness
        identity = [getattr(who, name, "") or "" for name in IDENTITY]
        scores = [number(record.scores.get(stub, 0)) for stub in STUBS]
        checks = [number(record.checks[check.id]) if check.id in record.checks else "" for check in CHECKS]
        timing = ["", "", "", number(row.adjusted)] if late is None else [
            late.submitted_at.isoformat(timespec="seconds") if late.submitted_at else "",
            f"{late.late_by.total_seconds() / 3600:.2f} h" if late.late_by and late.late_by.total_seconds() > 0 else "",
            f"{late.scale:g}", number(row.adjusted)]
        note = " ".join(filter(None, [record.note, late.note if late else ""]))
        writer.writerow([cell(record.student), *map(cell, identity), *scores, *checks, number(record.total),
                         number(record.max), *timing, record.status, cell(" ".join(note.split())),
                         f"{record.seconds:.1f}"])
    return buffer.getvalue()


def write_gradebook(records, path):
    """Write the gradebook CSV atomically and return its path."""
    return write_atomic(Path(path), to_csv(records))


def number(value):
    return f"{float(value):g}"


def cell(text):
    """Text a spreadsheet shows as text: a leading =, +, - or @ would otherwise start a formula."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
