"""Why Fashion-MNIST cannot be used, in the student's language (make data, make train, make grade)."""
from grader import messages

from .routes import DatasetUnavailable, fix_command
from .vision import EnvironmentMismatch


def explained(error):
    """The message of a DatasetUnavailable or EnvironmentMismatch in the current language (the routes' own
    reasons stay as they are)."""
    if isinstance(error, DatasetUnavailable) and error.tried:
        return "\n".join([messages.text("data.unavailable"), *(f"  - {line}" for line in error.tried),
                          messages.text("data.fix"), f"  {fix_command()}"])
    if isinstance(error, EnvironmentMismatch) and len(error.versions) == 3:
        torchvision, torch, cause = error.versions
        return messages.text("data.mismatch", torchvision=torchvision, torch=torch, cause=cause)
    return str(error)
