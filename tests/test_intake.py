"""Class intake: folders, archives and LMS downloads become one folder per student, safely, and every entry is
accounted for."""
import csv
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.classroom import archives, intake

ROOT = Path(__file__).resolve().parent.parent
SOFTMAX = (ROOT / "solutions" / "softmax.py").read_text()


def zipped(path, members, links=()):
    """A zip archive with ``members`` ({name: text}) and symbolic-link members ``links`` ({name: target})."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        for name, target in dict(links).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, target)
    return path


def tarred(path, members, link=None):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.SYMTYPE, link[1]
            archive.addfile(info)
    return path


@pytest.fixture
def class_folder(tmp_path):
    """A class as an instructor downloads it: every kind of entry, and every kind of trouble."""
    class_ = tmp_path / "class"
    (class_ / "alice").mkdir(parents=True)
    (class_ / "alice" / "softmax.py").write_text(SOFTMAX)
    zipped(class_ / "bob.zip", {"bob/softmax.py": SOFTMAX, "bob/__MACOSX/._softmax.py": "junk"})
    zipped(class_ / "carol.zip", {"softmax.py": SOFTMAX, "../../escaped.py": "print('out')", "/etc/evil.py": "x"},
           links={"sgd.py": "/etc/passwd"})
    tarred(class_ / "dave.tar.gz", {"dave/softmax.py": SOFTMAX}, link=("dave/sgd.py", "../../alice/softmax.py"))
    (class_ / "smithjane_12345_900001_softmax.py").write_text(SOFTMAX)
    (class_ / "smithjane_12345_900002_sgd.py").write_text("old")
    (class_ / "smithjane_12345_900003_sgd-1.py").write_text("new")
    (class_ / "leejoe_late_23456_900004_softmax.py").write_text(SOFTMAX)
    zipped(class_ / "kimmin_56789_900010_answers.zip", {"answers/softmax.py": SOFTMAX})   # a zip uploaded to Canvas
    moodle = class_ / "Wang Fang_34567_assignsubmission_file_"
    moodle.mkdir()
    (moodle / "softmax.py").write_text(SOFTMAX)
    (class_ / "Li Lei_45678_assignsubmission_file_softmax.py").write_text(SOFTMAX)
    (class_ / "erin").mkdir()
    (class_ / "erin" / "notes.txt").write_text("my answers are in my head")
    (class_ / "alice.zip").write_bytes((class_ / "bob.zip").read_bytes())
    (class_ / "softmax.py").write_text(SOFTMAX)
    (class_ / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    os.symlink(class_ / "alice", class_ / "mallory")
    return class_


def test_every_entry_becomes_a_student_or_a_reason(class_folder, tmp_path):
    found, unusable = intake.collect(class_folder, tmp_path / "work")
    students = {item.student: item for item in found}
    assert set(students) == {"alice", "bob", "carol", "dave", "smithjane", "leejoe", "kimmin", "Wang Fang", "Li Lei",
                             "erin"}
    why = {item.name: item.why for item in unusable}
    assert "second submission of alice" in why["alice.zip"]
    assert "outside" in why["carol.zip: ../../escaped.py"] and "outside" in why["carol.zip: /etc/evil.py"]
    assert "link" in why["carol.zip: sgd.py"] and "link" in why["dave.tar.gz: dave/sgd.py"]
    assert "names no student" in why["softmax.py"] and "could not be read" in why["broken.zip"]
    assert "symbolic link" in why["mallory"] and {item.student for item in unusable if item.student} == {"mallory"}
    assert not (tmp_path / "escaped.py").exists() and not list(tmp_path.rglob("escaped.py"))
    assert [p.name for p in (students["carol"].folder).iterdir()] == ["softmax.py"]
    assert not any(path.is_symlink() for path in (tmp_path / "work").rglob("*"))
    for name in ("bob", "dave", "smithjane", "leejoe", "kimmin", "Wang Fang", "Li Lei"):
        assert (students[name].folder / "softmax.py").read_text() == SOFTMAX, name
    assert (students["smithjane"].folder / "sgd.py").read_text() == "new"   # Canvas's later version wins
    assert students["smithjane"].lms == "canvas" and students["smithjane"].lms_id == "12345"
    assert students["leejoe"].late and not students["smithjane"].late
    assert students["Wang Fang"].lms == "moodle" and students["Li Lei"].lms_id == "45678"
    assert intake.gradable(students["erin"].folder) == [] and "notes.txt" in intake.what_is_there(
        students["erin"].folder)
    rows = list(csv.DictReader(io.StringIO(intake.to_csv(found, unusable))))
    assert len(rows) == len(found) + len(unusable) and {row["used"] for row in rows} == {"yes", "no"}


def test_an_unchanged_archive_is_unpacked_once_with_its_own_times(class_folder, tmp_path):
    found, _ = intake.collect(class_folder, tmp_path / "work")
    dave = next(item for item in found if item.student == "dave").folder / "softmax.py"
    assert dave.stat().st_mtime == 1_700_000_000
    again, _ = intake.collect(class_folder, tmp_path / "work")
    assert [(item.student, item.folder) for item in again] == [(item.student, item.folder) for item in found]


def test_a_whole_class_archive_from_the_lms_is_read_like_its_folder(tmp_path):
    class_ = tmp_path / "class"
    class_.mkdir()
    zipped(class_ / "submissions.zip", {"smithjane_12345_900001_softmax.py": SOFTMAX,
                                        "Wang Fang_34567_assignsubmission_file_/softmax.py": SOFTMAX})
    found, unusable = intake.collect(class_, tmp_path / "work")
    assert {item.student for item in found} == {"smithjane", "Wang Fang"} and unusable == []
    assert all(item.source.startswith("submissions.zip/") for item in found)


def test_archives_past_the_limits_are_refused_whole(tmp_path, monkeypatch):
    class_ = tmp_path / "class"
    class_.mkdir()
    zipped(class_ / "bomb.zip", {"softmax.py": "0" * (3 << 20)})
    zipped(class_ / "many.zip", {f"f{i}.py": "" for i in range(12)})
    monkeypatch.setattr(archives, "STUDENT_LIMITS", (10, 1 << 20))
    found, unusable = intake.collect(class_, tmp_path / "work")
    why = {item.name: item.why for item in unusable}
    assert found == [] and "more than 1 MiB" in why["bomb.zip"] and "more than 10 files" in why["many.zip"]


def test_grade_all_grades_archives_and_lms_files_and_accounts_for_every_entry(tmp_path):
    import subprocess
    import sys
    class_ = tmp_path / "class"
    class_.mkdir()
    stubs = {path.name: path.read_text() for path in (ROOT / "exercises").glob("*.py") if path.name != "__init__.py"}
    zipped(class_ / "bob.zip", {f"ch3/{name}": text for name, text in stubs.items()}, links={"ch3/x.py": "/etc"})
    for number, (name, text) in enumerate(sorted(stubs.items())):
        (class_ / f"smithjane_late_12345_{900000 + number}_{name}").write_text(text)
    (class_ / "erin").mkdir()
    (class_ / "erin" / "notes.txt").write_text("my answers are in my head")
    os.symlink(class_ / "erin", class_ / "mallory")
    for twin in ("ann", "ann-copy"):   # a duplicate pair: the same own code, one copy reformatted
        (class_ / twin).mkdir()
        for name, text in stubs.items():
            (class_ / twin / name).write_text(text)
        solved = (ROOT / "solutions" / "sgd.py").read_text()
        (class_ / twin / "sgd.py").write_text(solved if twin == "ann" else solved.replace("    ", "  "))
    (tmp_path / "roster.csv").write_text("student_id,name,email,lms_id\nbob,Bob Brown,bob@uni.edu,\n"
                                         "s1,Jane Smith,jane@uni.edu,12345\nzoe,Zoe Absent,zoe@uni.edu,\n")
    (tmp_path / "course.toml").write_text('due = 2026-12-20T23:59:00+08:00\nlate = { "1d" = 0.9 }\n'
                                          'assignment = "Lab 3 (4242)"\n')
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "grader.classroom.batch", str(class_), "--out", str(out),
                          "--device", "cpu", "--no-progress", "--jobs", "2", "--roster", str(tmp_path / "roster.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "D2L_KIT_COURSE": str(tmp_path / "course.toml")})
    assert run.returncode == 0, run.stdout + run.stderr
    with open(out / "gradebook.csv", newline="") as handle:
        book = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(book) == ["ann", "ann-copy", "bob", "erin", "mallory", "smithjane", "zoe"]
    similar = list(csv.DictReader(io.StringIO((out / "similar.csv").read_text())))
    assert [(row["student_a"], row["student_b"]) for row in similar] == [("ann", "ann-copy")]
    assert float(similar[0]["similarity"]) == 1.0   # the stubs are everyone's: bob and smithjane are not similar
    page = (out / "class.html").read_text()
    assert "ann-copy" in page and "Class report: " in run.stdout
    assert "zoe" in page and "mallory" in page   # the roster's missing student and the link: the gradebook's rows
    assert book["zoe"]["status"] == "missing" and book["smithjane"]["student_id"] == "s1"
    assert book["smithjane"]["scale"] == "0.9" and "unknown amount" in book["smithjane"]["note"]
    assert book["bob"]["scale"] == "1" and book["bob"]["submitted_at"]   # the archive's time, before the due date
    assert "Not in the roster: ann, ann-copy, erin" in run.stderr
    assert "No submission from 1 student(s) of the roster: zoe" in run.stdout
    canvas = list(csv.reader(io.StringIO((out / "gradebook.canvas.csv").read_text())))
    assert canvas[0][-1] == "Lab 3 (4242)" and canvas[1] == ["Points Possible", "", "", "", "", "95"]
    assert sorted(row[2] for row in canvas[2:]) == ["bob", "s1", "zoe"]   # erin and mallory: no roster entry
    assert book["bob"]["status"] == book["smithjane"]["status"] == "graded" and book["bob"]["max"] == "95"
    assert book["erin"]["status"] == "empty" and "notes.txt" in book["erin"]["note"]
    assert (out / "students" / "bob" / "student" / "report.html").is_file()   # the report bob may receive
    assert book["mallory"]["status"] == "error" and "symbolic link" in book["mallory"]["note"]
    assert "Not graded: bob.zip: ch3/x.py: a link or special file" in run.stderr
    assert "1 held nothing to grade" in run.stdout and "empty: erin" in run.stdout
    rows = {row["entry"]: row for row in csv.DictReader(io.StringIO((out / "intake.csv").read_text()))}
    assert rows["bob.zip"]["student"] == "bob" and rows["bob.zip: ch3/x.py"]["used"] == "no"
    assert rows[f"smithjane_late_12345_900000_{sorted(stubs)[0]}"]["late"] == "yes"
    assert rows["mallory"]["used"] == "no" and rows["erin"]["used"] == "yes"


def test_an_archive_whose_name_is_no_student_never_becomes_a_report_folder(tmp_path):
    class_ = tmp_path / "class"
    class_.mkdir()
    for name in (".zip", "..zip", "...tar.gz"):   # students "", "." and "..": the students/ folder itself, or above
        (zipped if name.endswith(".zip") else tarred)(class_ / name, {"softmax.py": SOFTMAX})
    zipped(class_ / "ok.zip", {"softmax.py": SOFTMAX})
    found, unusable = intake.collect(class_, tmp_path / "work")
    assert [item.student for item in found] == ["ok"]
    assert {item.name for item in unusable} == {".zip", "..zip", "...tar.gz"}
    assert all("cannot be a student's report folder" in item.why for item in unusable)
