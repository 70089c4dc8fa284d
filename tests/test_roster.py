"""The roster, the late policy and the LMS layouts of class grading, each checked on its own, cell by cell."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from grader import course
from grader.classroom import exports, gradebook, intake, roster
from grader.classroom.deadlines import lateness
from grader.classroom.gradebook import Record, Row

DUE = datetime(2026, 12, 20, 23, 59, tzinfo=timezone(timedelta(hours=8)))
POLICY = course.CourseSettings(due=DUE, late=((timedelta(days=1), 0.9), (timedelta(days=3), 0.5)))
ROSTER = """student_id,name,email,lms_id,section,submitted_at
s1,Jane Smith,jane@uni.edu,12345,A,
s2,Bob Brown,bob.brown@uni.edu,,B,2026-12-21T10:00:00+08:00
s3,Wang Fang,wf@uni.edu,34567,A,
s4,Zoe Absent,zoe@uni.edu,,A,
"""


def write_roster(tmp_path, text=ROSTER):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def submission(student, **values):
    return intake.Submission(student, folder=None, source=student, **values)


def test_the_roster_matches_by_lms_id_id_email_and_name_and_names_the_rest(tmp_path):
    students = roster.read(write_roster(tmp_path))
    found = [submission("smithjane", lms="canvas", lms_id="12345"), submission("bob.brown"),
             submission("Fang Wang"), submission("s1"), submission("mallory")]
    matched, unmatched, missing = roster.match(found, students)
    assert {name: who.student_id for name, who in matched.items()} == {"smithjane": "s1", "bob.brown": "s2",
                                                                     "Fang Wang": "s3"}
    assert unmatched == ["s1", "mallory"]          # s1 has a submission already; mallory is nobody
    assert [who.student_id for who in missing] == ["s4"]
    assert students[1].submitted_at == datetime(2026, 12, 21, 10, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize("text, words", [
    ("name,email\nJane,j@x\n", "has no student_id column"),
    ("student_id,name\ns1,A\ns1,B\n", "lists s1 more than once"),
    ("student_id,submitted_at\ns1,yesterday\n", "submitted_at 'yesterday' is not a date"),
])
def test_a_roster_that_cannot_be_used_says_why(tmp_path, text, words):
    with pytest.raises(roster.RosterError, match=words):
        roster.read(write_roster(tmp_path, text))


def test_the_late_policy_scales_by_period_caps_and_treats_an_unknown_time_honestly():
    on_time = lateness(POLICY, DUE - timedelta(minutes=1), "roster")
    assert not on_time.late and on_time.adjusted(80) == 80
    half_day = lateness(POLICY, DUE + timedelta(hours=12), "archive")
    assert half_day.scale == 0.9 and half_day.adjusted(80) == 72 and "late by 12 h" in half_day.note
    assert lateness(POLICY, DUE + timedelta(days=2), "roster").adjusted(80) == 40
    assert lateness(POLICY, DUE + timedelta(days=4), "roster").adjusted(80) == 0
    assert not lateness(POLICY).late and "unknown" in lateness(POLICY).note
    flagged = lateness(POLICY, None, "", flagged=True)
    assert flagged.scale == 0.9 and "by an unknown amount" in flagged.note
    capped = course.CourseSettings(due=DUE, late=((timedelta(days=7), 1.0),), late_cap=50)
    assert lateness(capped, DUE + timedelta(hours=1)).adjusted(80) == 50
    assert lateness(course.CourseSettings(), DUE + timedelta(days=9)).adjusted(80) == 80   # no due date: no policy


def test_the_late_policy_is_read_from_the_course_settings_with_clear_errors(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text('due = 2026-12-20T23:59:00+08:00\nlate = { "3d" = 0.5, "1d" = 0.9 }\nlate_cap = 60\n')
    settings = course.read(path)
    assert settings.due == DUE and settings.late == POLICY.late and settings.late_cap == 60
    path.write_text('late = { "soon" = 0.9 }\n')
    with pytest.raises(course.CourseSettingsError, match="'soon' is not a length of time"):
        course.read(path)
    path.write_text('late = { "1d" = 1.5 }\n')
    with pytest.raises(course.CourseSettingsError, match="must be between 0 and 1"):
        course.read(path)


def rows(tmp_path):
    """Three students: on time, late by half a day (raw 80), and one without a roster entry."""
    students = roster.read(write_roster(tmp_path))
    record = Record(student="smithjane", status="graded", seconds=12.5, total=95, max=95,
                    scores={"softmax": 15}, checks={"softmax/value": 4})
    late = Record(student="bob.brown", status="graded", seconds=20, total=80, max=95)
    stranger = Record(student="mallory", status="graded", seconds=3, total=10, max=95)
    return [Row(record, students[0], lateness(POLICY, DUE - timedelta(hours=1), "roster")),
            Row(late, students[1], lateness(POLICY, students[1].submitted_at, "roster")),
            Row(stranger, None, lateness(POLICY))]


def test_the_gradebook_keeps_identities_per_check_points_and_raw_and_adjusted_totals(tmp_path):
    table = list(csv.DictReader(io.StringIO(gradebook.to_csv(rows(tmp_path)))))
    jane, bob, mallory = table
    assert (jane["student"], jane["student_id"], jane["email"], jane["lms_id"]) == ("smithjane", "s1",
                                                                                   "jane@uni.edu", "12345")
    assert jane["softmax"] == "15" and jane["softmax/value"] == "4" and jane["softmax/keepdim"] == ""
    assert (jane["total"], jane["adjusted"], jane["scale"]) == ("95", "95", "1")
    assert (bob["total"], bob["adjusted"], bob["scale"], bob["late_by"]) == ("80", "72", "0.9", "10.02 h")
    assert "late by 10 h 1 min" in bob["note"] and mallory["student_id"] == ""


def test_the_canvas_and_moodle_layouts_cell_by_cell(tmp_path):
    settings = course.CourseSettings(assignment="Lab 3 (4242)")
    text, left_out = exports.canvas(rows(tmp_path), settings, 95)
    assert list(csv.reader(io.StringIO(text))) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 3 (4242)"],
        ["Points Possible", "", "", "", "", "95"],
        ["Jane Smith", "12345", "s1", "jane@uni.edu", "A", "95"],
        ["Bob Brown", "", "s2", "bob.brown@uni.edu", "B", "72"]]
    assert left_out == ["mallory"]
    text, left_out = exports.moodle(rows(tmp_path), settings)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["Full name", "Email address", "ID number", "Lab 3 (4242)", "Feedback"]
    assert table[1] == ["Jane Smith", "jane@uni.edu", "s1", "95", ""]
    assert table[2][:4] == ["Bob Brown", "bob.brown@uni.edu", "s2", "72"] and "late by" in table[2][4]
    assert left_out == ["mallory"] and len(table) == 3
