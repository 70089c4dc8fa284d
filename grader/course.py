"""The course's settings: whether the GPU check counts, and from when feedback shows the reference solution.

An instructor keeps them in ``course.toml`` at the kit's root: ``make release`` writes it once, every
setting explained, and never again (see grader/release/settings_file.py). A release copies them into
the handout and the Gradescope bundle as ``grader/course.json``, which the grader reads where there is
no ``course.toml``.
``D2L_KIT_COURSE`` names another file of either kind.
"""
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "course.toml"
RELEASED = Path(__file__).resolve().with_name("course.json")
ENV = "D2L_KIT_COURSE"
GPU_CHOICES = ("required", "optional", "left-out")
KNOWN = ("gpu", "reference_after", "due", "late", "late_cap", "assignment", "hidden_checks")
HIDDEN_CHOICES = ("titles", "counts")   # what a student's own report of class grading shows of the hidden checks
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}   # the units of a lateness period: 30m, 12h, 1d, 2w

class CourseSettingsError(ValueError):
    """A course.toml or course.json that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class CourseSettings:
    """A course's choices: ``gpu`` is one of GPU_CHOICES; ``reference_after`` an aware datetime or None."""

    gpu: str = "optional"
    reference_after: datetime | None = None
    due: datetime | None = None          # the deadline of class grading's late policy
    late: tuple = ()                     # ((period, scale), ...), periods ascending: late by at most period → scale
    late_cap: float | None = None        # a late submission earns at most this many points
    assignment: str = "d2l ch3 linear networks"   # the assignment's column in the LMS exports
    hidden_checks: str = "titles"        # see HIDDEN_CHOICES

    def gpu_runs(self):
        """Whether the GPU check runs at all (where a GPU is)."""
        return self.gpu != "left-out"

    def gpu_counts(self, cuda):
        """Whether the GPU check is part of the maximum, on a machine with (``cuda``) or without a GPU."""
        return self.gpu == "required" or (self.gpu == "optional" and bool(cuda))

    def shows_reference(self, now=None):
        """Whether feedback shows the reference solutions now (or at ``now``)."""
        return self.reference_after is not None and (now or datetime.now(timezone.utc)) >= self.reference_after

    def maximum(self, total, gpu_points, cuda):
        """The points of full marks: ``total`` less the GPU check's where it does not count."""
        return total if self.gpu_counts(cuda) else total - gpu_points


def _toml(text, where):
    if sys.version_info >= (3, 11):
        import tomllib
    else:   # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CourseSettingsError(f"{where} is not valid TOML ({error}); fix it, or delete it and run "
                                  "`make release` to write a fresh one") from None


def from_values(values, where):
    """CourseSettings from the values of a settings file, with a clear error for anything unknown or wrong."""
    if not isinstance(values, dict):
        raise CourseSettingsError(f"{where} holds no settings")
    unknown = sorted(set(values) - set(KNOWN))
    if unknown:
        raise CourseSettingsError(f"{where}: unknown setting {', '.join(unknown)} (known: {', '.join(KNOWN)})")
    gpu = values.get("gpu", "optional")
    if gpu not in GPU_CHOICES:
        raise CourseSettingsError(f"{where}: gpu = {gpu!r} is none of {', '.join(map(repr, GPU_CHOICES))}")
    cap = values.get("late_cap")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float)) or cap < 0):
        raise CourseSettingsError(f"{where}: late_cap must be a number of points, such as 50")
    assignment = values.get("assignment", CourseSettings.assignment)
    if not isinstance(assignment, str) or not assignment.strip():
        raise CourseSettingsError(f"{where}: assignment must be the name of the LMS's column, such as \"Lab 3\"")
    hidden = values.get("hidden_checks", "titles")
    if hidden not in HIDDEN_CHOICES:
        raise CourseSettingsError(f"{where}: hidden_checks = {hidden!r} is none of "
                                  f"{', '.join(map(repr, HIDDEN_CHOICES))}")
    return CourseSettings(gpu, _moment(values.get("reference_after"), where, "reference_after"),
                          _moment(values.get("due"), where, "due"), _late(values.get("late", {}), where),
                          None if cap is None else float(cap), assignment.strip(), hidden)


def _late(value, where):
    """The late periods of a ``late = { "1d" = 0.9, "1w" = 0.5 }`` table, shortest first."""
    if not isinstance(value, dict):
        raise CourseSettingsError(f'{where}: late must be a table such as {{ "1d" = 0.9, "3d" = 0.5 }}')
    periods = []
    for period, scale in value.items():
        seconds = _period(period)
        if seconds is None:
            raise CourseSettingsError(f"{where}: late period {period!r} is not a length of time such as 30m, 12h, "
                                      "1d or 2w")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise CourseSettingsError(f"{where}: the scale of late period {period!r} must be between 0 and 1")
        periods.append((timedelta(seconds=seconds), float(scale)))
    return tuple(sorted(periods))


def _period(text):
    """Seconds in ``30m``, ``12h``, ``1d`` or ``2w``; None for anything else."""
    text = str(text).strip()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].replace(".", "", 1).isdigit():
        return None
    return float(text[:-1]) * UNITS[text[-1]]


def _moment(value, where, name):
    """An aware datetime from a TOML datetime or an ISO 8601 string; a local time takes this machine's offset."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise CourseSettingsError(f"{where}: {name} must be a date and time such as 2026-12-20T23:59:00+08:00")
    return value if value.tzinfo else value.astimezone()


def read(path):
    """The settings in ``path``: a course.toml, or a release's course.json."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CourseSettingsError(f"cannot read the course settings {path} ({error.strerror or error})") from None
    if path.suffix == ".json":
        try:
            return from_values(json.loads(text), path)
        except ValueError as error:
            if isinstance(error, CourseSettingsError):
                raise
            raise CourseSettingsError(f"{path} is not valid JSON ({error})") from None
    return from_values(_toml(text, path), path)


def instructor_file():
    """Where the instructor's settings are: D2L_KIT_COURSE, else course.toml at the kit's root."""
    return Path(os.environ.get(ENV) or TOML)


def source():
    """The settings file in force: D2L_KIT_COURSE, else the kit's course.toml, else a release's course.json,
    else None (the defaults)."""
    if os.environ.get(ENV):
        return instructor_file()
    return next((path for path in (TOML, RELEASED) if path.is_file()), None)


def load():
    """The course's settings (the defaults where no file holds any)."""
    path = source()
    return read(path) if path is not None else CourseSettings()


def json_text(settings):
    """The text of a release's grader/course.json."""
    moment = settings.reference_after.isoformat() if settings.reference_after else None
    return json.dumps({"gpu": settings.gpu, "reference_after": moment}) + "\n"
