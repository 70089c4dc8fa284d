"""A class's grading records: one small record per student, and the gradebook CSV rebuilt from them."""
import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..files import write_atomic
from ..table import STUBS

GRADED, TIMEOUT, ERROR = "graded", "timeout", "error"
FINAL = (GRADED, TIMEOUT, ERROR)
RECORD = "record.json"
COLUMNS = ("student", *STUBS, "total", "max", "seconds", "status", "note")
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".git"}


@dataclass(frozen=True)
class Record:
    """How one student's grading ended: scores per stub, the totals, time, status and why."""

    student: str
    status: str                   # GRADED, TIMEOUT or ERROR
    seconds: float
    scores: dict = field(default_factory=dict)   # stub -> points earned
    total: float = 0.0
    max: float = 0.0
    note: str = ""
    fingerprint: str = ""         # names, sizes and times of the submission's files when it was graded
    settings: dict = field(default_factory=dict)  # seed, device and time limit of the run


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


def to_csv(records):
    """The gradebook as CSV text: one row per student, in the order given."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        scores = [_number(record.scores.get(stub, 0)) for stub in STUBS]
        writer.writerow([_cell(record.student), *scores, _number(record.total), _number(record.max),
                         f"{record.seconds:.1f}", record.status, _cell(" ".join(record.note.split()))])
    return buffer.getvalue()


def write_gradebook(records, path):
    """Write the gradebook CSV atomically and return its path."""
    return write_atomic(Path(path), to_csv(records))


def _number(value):
    return f"{float(value):g}"


def _cell(text):
    """Text a spreadsheet shows as text: a leading =, +, - or @ would otherwise start a formula."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
