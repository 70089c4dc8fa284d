"""The late policy of class grading, applied after grading: raw and adjusted totals are both kept.

The submission time is the roster's ``submitted_at`` when it has one, else the newest file of a
student's archive. Without either, a submission is on time, unless Canvas named it late: it is then
late by an unknown amount and takes the first period's factor, and its note says so.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Lateness:
    """When a submission came, how late that is, and the factor and cap its total takes."""

    submitted_at: datetime | None
    source: str              # "roster", "archive" or "" (unknown)
    late_by: timedelta | None
    scale: float = 1.0
    cap: float | None = None
    note: str = ""

    @property
    def late(self):
        return self.scale < 1.0 or self.cap is not None

    def adjusted(self, total):
        """The total after the late policy."""
        total = round(total * self.scale, 2)
        return total if self.cap is None else min(total, self.cap)


def lateness(settings, submitted_at=None, source="", flagged=False):
    """The Lateness of one submission under the course ``settings`` (CourseSettings)."""
    if settings.due is None:
        return Lateness(submitted_at, source, None)
    if submitted_at is None:
        if not flagged:
            return Lateness(None, "", None, note="submission time unknown: counted as on time")
        scale = settings.late[0][1] if settings.late else 0.0
        return Lateness(None, "", None, scale, settings.late_cap,
                        "marked late by the LMS, by an unknown amount: the first late period applies")
    late_by = submitted_at - settings.due
    if late_by <= timedelta(0):
        return Lateness(submitted_at, source, late_by)
    scale = next((factor for period, factor in settings.late if late_by <= period), 0.0)
    return Lateness(submitted_at, source, late_by, scale, settings.late_cap,
                    f"late by {_duration(late_by)}: total × {scale:g}"
                    + (f", at most {settings.late_cap:g} points" if settings.late_cap is not None else ""))


def _duration(delta):
    """``2 d 3 h`` or ``45 min``."""
    minutes = int(delta.total_seconds() // 60)
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes and not days else ""]
    return " ".join(part for part in parts if part) or "under a minute"
