"""The live progress line of ``make grade``: which check of which stub is running, rewritten in place.

It is drawn only on a terminal: in a file, a pipe or a notebook cell's output it prints nothing.
"""
import os
import sys

from . import messages
from .messages.columns import clip
from .table import BY_ID


class ProgressLine:
    """A callable for ``run.grade(progress=...)`` that rewrites one line of ``stream`` when it is a terminal."""

    def __init__(self, stream=None, width=78):
        stream = stream or sys.stdout
        # A handle of its own on the terminal: pytest captures the grader's standard output while checks run.
        self.stream = os.fdopen(os.dup(stream.fileno()), "w", encoding="utf-8", errors="replace") \
            if _is_terminal(stream) else None
        self.width, self.shown = width, False

    def say(self, text):
        """Show ``text`` on the line (cut to fit)."""
        if self.stream is None:
            return
        text = clip(" ".join(text.split()), self.width)
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self.shown = True

    def __call__(self, position, total, check_id):
        check = BY_ID.get(check_id)
        kind = messages.text(f"progress.{'hidden' if check.hidden else 'public'}") if check else ""
        self.say(messages.text("progress.check", position=position, total=total, stub=check.stub if check else "",
                               kind=kind, check=check_id))

    def clear(self):
        """Erase the line, so that the report starts on a clean one, and let go of the terminal."""
        if self.stream is not None:
            if self.shown:
                self.stream.write("\r\x1b[K")
            self.stream.close()
            self.stream, self.shown = None, False


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
