"""What a student sees while grading runs and after: the live progress line, and their own printed output."""
import os
import subprocess
import sys
import tempfile

from test_grader import submission

from grader.progress import ProgressLine
from grader.run import grade

ERASE = "\r\x1b[K"


def read_all(main):
    """Everything written to a pseudo-terminal whose other side is closed (it may come in several chunks)."""
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:   # EIO: the other side is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return b"".join(chunks).decode()


def test_the_progress_line_is_drawn_on_a_terminal_and_erased_at_the_end():
    main, side = os.openpty()
    with os.fdopen(side, "w") as terminal:
        line = ProgressLine(terminal)
        line(3, 36, "softmax/keepdim")
        line.clear()
    drawn = read_all(main)
    assert f"{ERASE}grading [3/36] softmax (hidden): softmax/keepdim" in drawn and drawn.endswith(ERASE), drawn


def test_the_progress_line_writes_nothing_into_a_file():
    with tempfile.TemporaryFile("w+") as file:
        line = ProgressLine(file)
        line.say("starting")
        line(1, 2, "softmax/value")
        line.clear()
        file.seek(0)
        assert file.read() == ""


def test_make_grade_on_a_terminal_shows_each_check_and_in_a_pipe_shows_none(tmp_path):
    folder = submission(tmp_path)
    command = [sys.executable, "-m", "grader", str(folder), "--out", str(tmp_path / "out"), "--only", "sgd",
               "--color", "never"]
    main, side = os.openpty()
    process = subprocess.Popen(command, stdout=side, stderr=side, stdin=subprocess.DEVNULL)
    os.close(side)
    shown = read_all(main)   # until the grader, the terminal's other end, is done
    assert process.wait(600) == 0
    assert f"{ERASE}grading [1/" in shown and "sgd (public): sgd/update" in shown, shown[-2000:]
    assert "Total:" in shown.split(ERASE)[-1]   # the line was erased before the report was printed
    piped = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0 and "\x1b[K" not in piped.stdout + piped.stderr and "grading [" not in piped.stdout


def test_what_the_code_printed_is_reported_per_stub_from_its_public_checks_only(tmp_path):
    folder = submission(tmp_path)
    path = folder / "softmax.py"
    path.write_text(path.read_text().replace('def softmax(X):\n', 'def softmax(X):\n'
                                             '    if X.device.type == "cpu":\n'
                                             '        print("largest logit", round(float(X.detach().abs().max())))\n',
                                             1))
    report = grade(folder, device="cpu", only=["softmax"])
    printed = report.printed["softmax"]
    logits = [int(line.split()[-1]) for line in printed.splitlines() if line.startswith("largest logit")]
    assert logits and max(logits) < 100, printed   # the hidden checks' logits of ±1000 never show
    assert report.score == report.max_score and list(report.printed) == ["softmax"]


def test_printed_output_is_bounded_and_marked_as_the_students_in_every_report(tmp_path):
    folder = submission(tmp_path)
    path = folder / "sgd.py"
    path.write_text(path.read_text().replace('def sgd(params, lr, batch_size):\n',
                                             'def sgd(params, lr, batch_size):\n    print("x" * 5000, "END")\n', 1))
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "grader", str(folder), "--out", str(out), "--only", "sgd",
                          "--color", "never"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert 'Your code printed something in sgd.py: see "What your code printed"' in run.stdout
    markdown = (out / "report.md").read_text()
    section = markdown.split("## What your code printed", 1)[1]
    assert "### sgd.py" in section and "END" in section and 1900 < section.count("x") <= 2000
    assert "What your code printed" in (out / "report.html").read_text()
