"""The seeds of official gradings: a course secret, and from it a seed for each submission.

A student's own ``make grade`` uses the public seed 0, so answers memorised from one report would
pass it. Class grading, the Gradescope bundle and nbgrader's autograde draw each submission's seed
from a secret that only the instructor's copy of the kit holds (``.course-secret``: made once,
never part of git, the handout or the nbgrader release) and from the submission's content, so a
resubmission with answers memorised from an earlier report meets new inputs.
"""
import hashlib
import hmac
import os
from pathlib import Path

SECRET = Path(__file__).resolve().parent.parent / ".course-secret"
READ_LIMIT = 64 << 20   # the most bytes of a submission that its seed depends on


def course_secret(path=SECRET):
    """The course's secret, made (32 random bytes, readable by its owner only) the first time it is needed."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Path(path).read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(os.urandom(32))
    return Path(path).read_bytes()


def content_digest(submission):
    """A hash of the names and bytes of a submission's regular files (never through a link)."""
    digest, left, submission = hashlib.sha256(), READ_LIMIT, Path(submission)
    paths = [submission] if submission.is_file() else sorted(submission.rglob("*"))
    for path in paths:
        if path.is_symlink() or not path.is_file() or "__pycache__" in path.parts or left <= 0:
            continue
        data = path.read_bytes()[:left]
        left -= len(data)
        digest.update(path.name.encode("utf-8", "surrogateescape") + b"\0" + data + b"\0")
    return digest.hexdigest()


def official_seed(name, submission, secret=None):
    """The seed of the official grading of ``submission`` by the student or upload ``name``."""
    message = f"{name}\0{content_digest(submission)}".encode("utf-8", "surrogateescape")
    mac = hmac.new(secret if secret is not None else course_secret(), message, hashlib.sha256).digest()
    return int.from_bytes(mac[:4], "big")
