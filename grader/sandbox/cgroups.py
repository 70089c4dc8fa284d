"""Control groups (v1 or v2) that hold every process of one grading: a process count and a memory cap."""
import os
import time
from pathlib import Path

from .procs import send

PROCESS_LIMIT = 256                  # processes and threads of one grading
GROUP_MEMORY = 8 << 30               # resident memory of one grading, all processes together


class ControlGroup:
    """A control group (v1 or v2) holding every process of one grading."""

    made = 0

    def __init__(self, kind, dirs):
        self.kind, self.dirs = kind, dirs

    @classmethod
    def create(cls, notes):
        """A new group with process and memory caps, or None (with a note) where that is not allowed."""
        cls.made += 1
        name, dirs = f"d2l-kit-{os.getpid()}-{cls.made}", []
        try:
            kind, places = _hierarchies()
            for controller, limits in places:
                _remove_abandoned(controller)
                directory = controller / name
                directory.mkdir()
                dirs.append(directory)
                for file, value in limits.items():
                    (directory / file).write_text(str(value))
            return cls(kind, dirs)
        except (OSError, LookupError) as error:
            cls(None, dirs).remove()
            notes.append(f"no control group: {error}")
            return None

    def procs_files(self):
        return [str(directory / "cgroup.procs") for directory in self.dirs]

    def pids(self):
        if not self.dirs:   # a group whose creation failed before its first folder
            return set()
        try:
            return {int(pid) for pid in (self.dirs[0] / "cgroup.procs").read_text().split()}
        except OSError:
            return set()

    def remove(self):
        """Kill every member until none is left, then remove the group's folders."""
        for _attempt in range(100):
            pids = self.pids()
            if not pids:
                break
            send(pids)
            time.sleep(0.01)
        for directory in self.dirs:
            for _attempt in range(50):  # a killed process leaves its group a moment later
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def _remove_abandoned(parent):
    """Remove the groups of gradings whose grader was killed before it could remove them."""
    for directory in parent.glob("d2l-kit-*-*"):
        if not Path("/proc", directory.name.split("-")[2]).exists():
            ControlGroup("abandoned", [directory]).remove()


def _hierarchies():
    """Where to make groups: (kind, [(folder, limits)]) for this process's own pids and memory groups."""
    own = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    mounts = Path("/sys/fs/cgroup")
    if "pids" in own and "memory" in own:
        return "cgroup v1", [(mounts / "pids" / own["pids"].lstrip("/"), {"pids.max": PROCESS_LIMIT}),
                             (mounts / "memory" / own["memory"].lstrip("/"), {"memory.limit_in_bytes": GROUP_MEMORY})]
    if "" in own:
        base = mounts / own[""].lstrip("/")
        if {"pids", "memory"} <= set((base / "cgroup.subtree_control").read_text().split()):
            return "cgroup v2", [(base, {"pids.max": PROCESS_LIMIT, "memory.max": GROUP_MEMORY})]
    raise LookupError("no writable pids and memory controllers")

