"""Unpacking a student's or a class's archive safely: regular files only (no links, devices or hard links), no
absolute path and no ``..``, within limits of file count and size that are counted while unpacking (the sizes
an archive declares are never believed), each member's time kept so an unchanged archive keeps its fingerprint.
"""
import hashlib
import os
import shutil
import stat
import tarfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
STUDENT_LIMITS = (500, 64 << 20)      # files, bytes: one student's archive
CLASS_LIMITS = (50000, 4 << 30)       # one archive of a whole class
JUNK = {"__pycache__", ".ipynb_checkpoints", ".git", "__MACOSX", ".DS_Store"}   # never unpacked


class ArchiveError(ValueError):
    """An archive that could not be unpacked as a whole: unreadable, or past a limit."""


def archive_kind(name):
    """The archive suffix of ``name`` ("" when it is no archive the intake unpacks)."""
    lowered = name.lower()
    return next((suffix for suffix in sorted(ARCHIVES, key=len, reverse=True) if lowered.endswith(suffix)), "")


def newest(folder):
    """The newest modification time of the files below ``folder`` (None when it holds none)."""
    times = [path.stat().st_mtime for path in Path(folder).rglob("*") if path.is_file()]
    return datetime.fromtimestamp(max(times), timezone.utc) if times else None


def digest(path):
    """A short digest of a file's content: where its unpacked copy lives, so an unchanged archive is unpacked once."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def member_names(path):
    """The member names of an archive ([] when it cannot be read)."""
    try:
        if archive_kind(path.name) == ".zip":
            with zipfile.ZipFile(path) as archive:
                return archive.namelist()
        with tarfile.open(path) as archive:
            return archive.getnames()
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError):
        return []


def unpack(path, target, limits):
    """Unpack the archive ``path`` into ``target`` (reused when unpacked there before); the members left out, as
    (member, why). ArchiveError when it cannot be unpacked as a whole."""
    complete = target.with_name(f"{target.name}.complete")
    if complete.is_file():
        return []
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    try:
        members = _zip_members(path) if archive_kind(path.name) == ".zip" else _tar_members(path)
        left_out = _write_members(members, target, limits)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError) as error:
        shutil.rmtree(target, ignore_errors=True)
        raise ArchiveError(f"an archive that could not be read ({error})") from None
    complete.touch()
    return left_out


def _zip_members(path):
    """(member name, kind, modification time, opener) of each zip member; kind is file, folder or other."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            kind = stat.S_IFMT(info.external_attr >> 16)   # 0 where the archiver recorded no file type
            kind = "folder" if info.is_dir() else "file" if kind in (0, stat.S_IFREG) else "other"
            yield info.filename, kind, time.mktime((*info.date_time, 0, 0, -1)), lambda info=info: archive.open(info)


def _tar_members(path):
    with tarfile.open(path) as archive:
        for member in archive:
            kind = "file" if member.isreg() else "folder" if member.isdir() else "other"
            yield member.name, kind, member.mtime, lambda member=member: archive.extractfile(member)


def _write_members(members, target, limits):
    """Write the regular files among ``members`` under ``target``; (member, why) of links and paths outside;
    ValueError past a limit."""
    max_files, max_bytes = limits
    files = written = 0
    left_out = []
    for member, kind, mtime, opener in members:
        where = _inside(target, member)
        if where is None:
            left_out.append((member, "a path outside the archive's folder, not unpacked"))
        elif kind == "other":
            left_out.append((member, "a link or special file, not unpacked"))
        elif kind == "file" and not JUNK.intersection(PurePosixPath(member).parts):
            files += 1
            if files > max_files:
                raise ValueError(f"more than {max_files} files")
            where.parent.mkdir(parents=True, exist_ok=True)
            with opener() as source, open(where, "xb") as sink:
                written += _copy(source, sink, max_bytes - written, max_bytes)
            os.utime(where, (mtime, mtime))
    return left_out


def _copy(source, sink, room, limit):
    """Copy at most ``room`` bytes; ValueError past it, naming the ``limit`` (the sizes an archive declares are
    never believed: a zip bomb's lie)."""
    copied = 0
    while chunk := source.read(1 << 20):
        copied += len(chunk)
        if copied > room:
            raise ValueError(f"more than {limit >> 20} MiB unpacked")
        sink.write(chunk)
    return copied


def _inside(target, member):
    """Where ``member`` goes under ``target``, or None for an absolute path, a drive, or a ``..``."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    if not parts or member.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
        return None
    return target.joinpath(*parts)
