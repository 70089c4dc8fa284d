"""Running the real nbgrader command line in a course folder, with this environment's Python."""
import os
import subprocess
import sys
from pathlib import Path

from ..cells import VERDICTS_ENV

CONFIG_FAILED = "Exception while loading config file"   # nbgrader says so, then goes on with its defaults


def environment():
    """nbgrader's environment: this one, with this Python's scripts first and no verdicts file named."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    env.pop(VERDICTS_ENV, None)
    return env


def nbgrader(course_dir, *args):
    """Run ``nbgrader ARGS`` in ``course_dir``; its output comes back for the caller to show or log."""
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=environment(), text=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if CONFIG_FAILED in run.stdout:
        return subprocess.CompletedProcess(run.args, 1, run.stdout)
    return run


def stream(course_dir, *args, on_line=lambda line: None):
    """Run ``nbgrader ARGS`` in ``course_dir``, handing each line of its output to ``on_line`` as it comes; its exit
    status (1 when its configuration could not be loaded)."""
    env = dict(environment(), PYTHONUNBUFFERED="1")
    config_failed = False
    with subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env, text=True,
                          errors="replace", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT) as process:
        for line in process.stdout:
            config_failed = config_failed or CONFIG_FAILED in line
            on_line(line)
    return 1 if config_failed else process.returncode
