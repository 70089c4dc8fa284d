"""What an instructor downloads, as one folder per student: folders, zip and tar archives, LMS bulk downloads.

A class folder may hold student folders, one archive per student, Moodle's folders
(``Full Name_12345_assignsubmission_file_``), and Canvas's or Moodle's loose files
(``smithjane_LATE_12345_678901_softmax.py``, ``Jane Smith_12345_assignsubmission_file_softmax.py``), or
one archive of the whole class holding any of these. Archives are unpacked under the run's own
folder, never beside them, and safely (see ``archives``). Everything that could not be used is
listed with why; nothing is silently skipped.
"""
import csv
import io
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from . import archives

LINK_NOTE = "a symbolic link, which class grading never follows"
SKIPPED = archives.JUNK
CANVAS = re.compile(r"^(?P<login>[a-z0-9-]+)_(?P<late>late_)?(?P<user>\d+)_(?P<file_id>\d+)_(?P<name>.+)$", re.I)
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<user>\d+)_assignsubmission_(?:file|onlinetext)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<user>\d+)_assignsubmission_file_(?P<file>.+)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<number>\d+)(?P<suffix>\.[A-Za-z0-9]+)$")   # Canvas's softmax-1.py


@dataclass(frozen=True)
class Submission:
    """One student's submission as found: the folder to grade and where it came from."""

    student: str
    folder: Path
    source: str            # the entry of the class folder it came from
    lms: str = ""          # "canvas" or "moodle" when named by an LMS
    lms_id: str = ""       # the LMS's id of the student
    late: bool = False     # Canvas marked the file late
    submitted_at: datetime | None = None   # an archive's newest member: when it was made


@dataclass(frozen=True)
class Unusable:
    """An entry (or an archive's member) that could not be used, and why."""

    name: str
    why: str
    student: str = ""      # the student it would have been (a student's folder that is a link): a gradebook row


class Intake:
    """The submissions of a class folder and what could not be used; archives unpacked under ``work``."""

    def __init__(self, work):
        self.work, self.found, self.unusable = Path(work), {}, []

    def add(self, submission):
        if not usable_name(submission.student):
            self.refuse(submission.source, "its name cannot be a student's report folder (empty, hidden or too long)")
        elif submission.student in self.found:
            first = self.found[submission.student].source
            self.unusable.append(Unusable(submission.source, f"a second submission of {submission.student} "
                                                             f"(the first is {first}); only the first is graded"))
        else:
            self.found[submission.student] = submission

    def refuse(self, name, why, student=""):
        self.unusable.append(Unusable(name, why, student))


def usable_name(student):
    """Whether ``student`` can name a report folder: not empty, not hidden (``.``, ``..``), no separator, short."""
    separators = {"/", "\\", "\0"}
    return bool(student) and not student.startswith(".") and len(student) <= 200 and not set(student) & separators


def collect(submissions, work):
    """(submissions sorted by student, unusable entries) of the class folder ``submissions``."""
    intake = Intake(work)
    _class_folder(Path(submissions), intake, "")
    return sorted(intake.found.values(), key=lambda found: found.student), intake.unusable


def _class_folder(folder, intake, prefix):
    """Every entry of a class folder (or of an unpacked class archive, named under ``prefix``)."""
    loose = {}
    for entry in sorted(folder.iterdir()):
        name = prefix + entry.name
        if entry.name in SKIPPED:
            continue
        if entry.is_symlink():
            intake.refuse(name, LINK_NOTE, "" if prefix else entry.name)
        elif entry.is_dir():
            match = MOODLE_FOLDER.match(entry.name)
            student = match["name"] if match else entry.name
            intake.add(Submission(student, entry, name, "moodle" if match else "", match["user"] if match else ""))
        elif not entry.is_file():
            intake.refuse(name, "not a regular file or folder")
        elif _lms_file(entry):
            loose.setdefault(_lms_file(entry)[:3], []).append(entry)
        elif archives.archive_kind(entry.name):
            _archive(entry, name, intake, prefix)
        elif entry.name.startswith("."):
            intake.refuse(name, "a hidden file")
        else:
            intake.refuse(name, "a loose file that names no student: put it in the student's folder or archive")
    for (lms, student, user), files in sorted(loose.items()):
        _lms_submission(lms, student, user, files, intake, prefix)


def _lms_file(path):
    """(lms, student, LMS id, original name, late) of a file named by Canvas or Moodle, else None."""
    moodle = MOODLE_FILE.match(path.name)
    if moodle:
        return "moodle", moodle["name"], moodle["user"], moodle["file"], False
    canvas = CANVAS.match(path.name)
    if canvas:
        return "canvas", canvas["login"], canvas["user"], canvas["name"], bool(canvas["late"])
    return None


def _lms_submission(lms, student, user, files, intake, prefix):
    """One student's loose LMS files, gathered into a folder of their own names (archives unpacked there)."""
    target = intake.work / "lms" / f"{student}-{user}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    late = False
    for path in sorted(files, key=lambda path: _resubmission(_lms_file(path)[3])):
        _, _, _, original, marked = _lms_file(path)
        late = late or marked
        name = _original(original)
        unpacked = intake.work / "archives" / archives.digest(path)
        kind = archives.archive_kind(name)
        if kind and _unpack(path, unpacked, archives.STUDENT_LIMITS, prefix + path.name, intake):
            shutil.copytree(_single_folder(unpacked), target, dirs_exist_ok=True)
        elif not kind:
            shutil.copy2(path, target / name)
    intake.add(Submission(student, target, prefix + files[0].name, lms, user, late))


def _resubmission(name):
    """Sort key: Canvas's later versions (softmax-1.py, softmax-2.py) after the first, so the latest wins."""
    match = RESUBMITTED.match(name)
    return (int(match["number"]), name) if match else (0, name)


def _original(name):
    """A file's own name without Canvas's resubmission number (softmax-1.py is softmax.py)."""
    match = RESUBMITTED.match(name)
    return f"{match['stem']}{match['suffix']}" if match else name


def _unpack(path, target, limits, name, intake):
    """Unpack an archive under the work folder, recording what was left out; False when it could not be used."""
    try:
        left_out = archives.unpack(path, target, limits)
    except archives.ArchiveError as error:
        intake.refuse(name, str(error))
        return False
    for member, why in left_out:
        intake.refuse(f"{name}: {member}", why)
    return True


def _archive(path, name, intake, prefix):
    """A student's archive, or an archive of the whole class (an LMS bulk download), unpacked under the work folder."""
    digest = archives.digest(path)
    if _is_class_archive(path):
        target = intake.work / "class" / digest
        if _unpack(path, target, archives.CLASS_LIMITS, name, intake):
            _class_folder(_single_folder(target), intake, f"{name}/")
        return
    target = intake.work / "archives" / digest
    if _unpack(path, target, archives.STUDENT_LIMITS, name, intake):
        student = path.name[: -len(archives.archive_kind(path.name))]
        intake.add(Submission(student, _single_folder(target), name, submitted_at=archives.newest(target)))


def _single_folder(folder):
    """The only folder inside ``folder`` when that is all it holds (an archive of one folder), else ``folder``."""
    entries = [entry for entry in folder.iterdir() if entry.name not in SKIPPED]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder


def _is_class_archive(path):
    """Whether an archive holds a class: LMS-named files or Moodle folders at its top level."""
    names = archives.member_names(path)
    top = {PurePosixPath(name).parts[0] for name in names if PurePosixPath(name).parts}
    return any(CANVAS.match(part) or MOODLE_FILE.match(part) or MOODLE_FOLDER.match(part) for part in top)


def gradable(folder):
    """The exercise modules and notebooks at the top of a submission folder (what the grader reads)."""
    from ..table import STUBS
    wanted = {f"{stub}.py" for stub in STUBS}
    return sorted(path.name for path in Path(folder).iterdir()
                  if path.is_file() and (path.name in wanted or path.suffix == ".ipynb"))


def what_is_there(folder, limit=5):
    """A few of the files a submission holds, for a note that says why it has nothing to grade."""
    names = sorted(path.relative_to(folder).as_posix() for path in Path(folder).rglob("*") if path.is_file())
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "") or "nothing"


def to_csv(found, unusable):
    """intake.csv: every entry of the class folder, the student it became or why it could not be used."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("entry", "student", "lms", "lms_id", "late", "used", "why"))
    for item in found:
        writer.writerow((item.source, item.student, item.lms, item.lms_id, "yes" if item.late else "", "yes", ""))
    for item in unusable:
        writer.writerow((item.name, item.student, "", "", "", "no", item.why))
    return buffer.getvalue()
