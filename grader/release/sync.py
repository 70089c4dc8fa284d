"""Writing a release into a folder without losing anything someone edited there.

Every file written is recorded with its hash in a manifest, so a re-run replaces only what it wrote
itself and nobody edited since. An edited or foreign file is left alone and named (``force`` moves
it to a backup folder first).
"""
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomic

MANIFEST = ".kit-release.json"
UMASK = os.umask(0o022)
os.umask(UMASK)


@dataclass
class Synced:
    """What one sync did: files written, left alone because someone edited them, backed up, removed."""

    target: Path
    written: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    backups: list = field(default_factory=list)
    removed: list = field(default_factory=list)


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def sync(target, files, manifest, force=False):
    """Make ``target`` hold ``files`` ({relative path: bytes}) without losing anything someone edited."""
    target, manifest = Path(target), Path(manifest)
    before = json.loads(manifest.read_text()) if manifest.is_file() else {}
    result, after, stamp = Synced(target), {}, time.strftime("%Y%m%d-%H%M%S")
    for name in sorted(set(files) | set(before)):
        path, new = target / name, files.get(name)
        current = path.read_bytes() if path.is_file() else None
        edited = current is not None and _digest(current) != before.get(name) and current != new
        if edited and not force:
            result.kept.append(path)
            after[name] = before.get(name, "")
            continue
        if edited:
            backup = target.parent / f"{target.name}.bak-{stamp}" / name
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, backup)
            result.backups.append(backup)
        if new is None:
            if path.is_file():
                path.unlink()
                result.removed.append(path)
            continue
        if current != new or edited:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, new, mode=0o666 & ~UMASK)
            result.written.append(path)
        after[name] = _digest(new)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(manifest, json.dumps(after, indent=1, sort_keys=True) + "\n")
    return result


def describe(synced):
    """Lines about the files a sync left alone, backed up or removed."""
    lines = [f"  left alone  {path}  (edited since the last release)" for path in synced.kept]
    lines += [f"  backed up   {path}" for path in synced.backups]
    lines += [f"  removed     {path}  (no longer part of the release)" for path in synced.removed]
    return lines


def adopt(manifest, name, path):
    """Stop owning ``name`` (a file at ``path``): drop it from ``manifest``. True when the file was the release's
    own, unedited since (the caller may replace it); False when it was edited, is absent, or was never owned."""
    manifest = Path(manifest)
    before = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if name not in before:
        return False
    owned = before.pop(name)
    write_atomic(manifest, json.dumps(before, indent=1, sort_keys=True) + "\n")
    return path.is_file() and _digest(path.read_bytes()) == owned
