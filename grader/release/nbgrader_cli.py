"""Running the real nbgrader command line in a course folder, with this environment's Python."""
import os
import subprocess
import sys
from pathlib import Path

from ..cells import VERDICTS_ENV


def nbgrader(course_dir, *args):
    """Run ``nbgrader ARGS`` in ``course_dir``; its output comes back for the caller to show or log."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env.pop(VERDICTS_ENV, None)
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env, text=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if "Exception while loading config file" in run.stdout:
        return subprocess.CompletedProcess(run.args, 1, run.stdout)
    return run
