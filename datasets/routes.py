"""Find, verify and cache the four Fashion-MNIST files (d2l 3.5), trying each route in turn."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import subprocess
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .vision import torchvision

# MD5 of the official decompressed IDX files; redistributors recompress the .gz archives.
RAW_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
APT_PACKAGE = "dataset-fashion-mnist"
PROJECT_URL = "https://github.com/zalandoresearch/fashion-mnist"
MIRRORS: Sequence[str] | None = None  # None: torchvision's FashionMNIST.mirrors
DOWNLOAD_TIMEOUT = 5.0
APT_TIMEOUT = 600

ENV_VAR = "FASHION_MNIST_DIR"
ENV_ROUTE = "$" + ENV_VAR
CACHE_ROUTE = "kit cache"
SYSTEM_ROUTE = "system package"
DOWNLOAD_ROUTE = "download"
APT_ROUTE = "apt-get install"

_RECORD: dict[str, Found] = {}


class DatasetUnavailable(RuntimeError):
    """Fashion-MNIST could not be found by any route (d2l 3.5); ``tried`` says why each route failed."""

    def __init__(self, message, tried=()):
        super().__init__(message)
        self.tried = tuple(tried)


class _Rejected(Exception):
    """A route failed; the message says why."""


@dataclass
class Found:
    """Where the dataset was found: torchvision root, route name, source, routes tried before."""

    root: Path
    route: str
    source: str
    tried: list[str] = field(default_factory=list)
    installed: bool = True


def official_archive_md5s() -> dict[str, str]:
    """Return the official .gz MD5s from torchvision's FashionMNIST.resources (d2l 3.5)."""
    return dict(torchvision().datasets.FashionMNIST.resources)


def cache_dir() -> Path:
    """Return the kit's cache dir (the torchvision root) from the environment (d2l 3.5)."""
    if os.environ.get("D2L_KIT_CACHE"):
        return Path(os.environ["D2L_KIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "d2l-linear-kit"


def raw_dir(cache: Path) -> Path:
    """Return where torchvision's FashionMNIST(root=cache) reads the decompressed files (d2l 3.5)."""
    return Path(cache) / "FashionMNIST" / "raw"


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stage_gz(gz: Path, staging: Path, raw_md5: str, archive_md5: str | None) -> Path:
    """Decompress a verified .gz into staging; raise _Rejected naming the file if it is bad (d2l 3.5)."""
    archive_ok = archive_md5 is not None and _md5(gz) == archive_md5
    extract = torchvision().datasets.utils.extract_archive
    try:
        out = Path(extract(gz, staging))
    except (OSError, EOFError, zlib.error) as exc:
        raise _Rejected(f"{gz.name}: corrupt or truncated gzip ({exc}) at {gz}") from exc
    if archive_ok or _md5(out) == raw_md5:
        return out
    out.unlink()
    raise _Rejected(f"{gz.name}: checksum mismatch (not the official file) at {gz}")


def _check_raw(path: Path, md5: str) -> Path | None:
    """Return path if it holds the expected bytes, None if absent; raise _Rejected if it differs."""
    if not path.is_file():
        return None
    if _md5(path) != md5:
        raise _Rejected(f"{path.name}: checksum mismatch (not the official file) at {path}")
    return path


def stage_file(src: Path, name: str, staging: Path, raw_md5s: Mapping[str, str] = RAW_MD5,
               archive_md5s: Mapping[str, str] | None = None) -> Path | None:
    """Put a verified decompressed copy of src/name (raw or .gz) into staging; None if absent (d2l 3.5)."""
    archives = archive_md5s if archive_md5s is not None else official_archive_md5s()
    problems = []
    try:
        if _check_raw(src / name, raw_md5s[name]):
            return Path(shutil.copyfile(src / name, staging / name))
    except _Rejected as exc:
        problems.append(str(exc))
    gz = src / (name + ".gz")
    if gz.is_file():
        try:
            return stage_gz(gz, staging, raw_md5s[name], archives.get(gz.name))
        except _Rejected as exc:
            problems.append(str(exc))
    if problems:
        raise _Rejected("; ".join(problems))
    return None


def _each(folder: Path, names, fn) -> list[Path]:
    """Apply fn to every name in folder; raise _Rejected summarising bad and missing files."""
    if not folder.is_dir():
        raise _Rejected(f"directory {folder} does not exist")
    done, problems, missing = [], [], []
    for name in names:
        try:
            result = fn(name)
        except _Rejected as exc:
            problems.append(str(exc))
            continue
        (done if result is not None else missing).append(result or name)
    if len(missing) == len(names):
        raise _Rejected(f"no Fashion-MNIST files in {folder}")
    if missing:
        problems.append(f"missing from {folder}: {', '.join(missing)}")
    if problems:
        raise _Rejected("; ".join(problems))
    return done


def verify_dir(src: Path, staging: Path, raw_md5s: Mapping[str, str] = RAW_MD5,
               archive_md5s: Mapping[str, str] | None = None) -> list[Path]:
    """Stage all files from src, or raise _Rejected listing every bad or missing one (d2l 3.5)."""
    return _each(src, list(raw_md5s),
                 lambda name: stage_file(src, name, staging, raw_md5s, archive_md5s))


def verify_cache(cache: Path, raw_md5s: Mapping[str, str] = RAW_MD5) -> None:
    """Check every decompressed file in the cache by raw MD5, raising _Rejected if any is off (d2l 3.5)."""
    folder = raw_dir(cache)
    _each(folder, list(raw_md5s), lambda name: _check_raw(folder / name, raw_md5s[name]))


def fetch(url: str, dest: Path, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Download url to dest with a short connect/read timeout, raising _Rejected on failure (d2l 3.5)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
            shutil.copyfileobj(resp, out)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            reason = f"timed out after {timeout:g} s"
        raise _Rejected(f"{url}: {reason}") from exc


def download(mirror: str, staging: Path, raw_md5s: Mapping[str, str] = RAW_MD5,
             archive_md5s: Mapping[str, str] | None = None,
             timeout: float = DOWNLOAD_TIMEOUT) -> list[Path]:
    """Fetch every .gz from one mirror into a temp dir and stage the verified files (d2l 3.5)."""
    incoming = staging / "incoming"
    incoming.mkdir(exist_ok=True)
    for name in raw_md5s:
        fetch(mirror.rstrip("/") + "/" + name + ".gz", incoming / (name + ".gz"), timeout)
    return verify_dir(incoming, staging, raw_md5s, archive_md5s)


def running_as_root() -> bool:
    """Return whether this process runs as root (d2l 3.5)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def debian_like(os_release: Path = Path("/etc/os-release")) -> bool:
    """Return whether /etc/os-release names Debian or Ubuntu in ID or ID_LIKE (d2l 3.5)."""
    try:
        text = os_release.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE") and {"debian", "ubuntu"} & set(value.strip("\"'").split()):
            return True
    return False


def run_command(cmd: Sequence[str]) -> int:
    """Run cmd non-interactively with a timeout and return its exit status (d2l 3.5)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        return subprocess.run(list(cmd), env=env, timeout=APT_TIMEOUT, check=False).returncode
    except subprocess.TimeoutExpired:
        return 124
    except OSError:
        return 127


def apt_get_available() -> bool:
    """Return whether apt-get is on PATH (d2l 3.5)."""
    return shutil.which("apt-get") is not None


def apt_skip_reason() -> str | None:
    """Return why the apt-get route cannot run here, or None when it can (d2l 3.5)."""
    if not running_as_root():
        return "not running as root"
    if not debian_like():
        return "not Debian/Ubuntu"
    if not apt_get_available():
        return "apt-get not on PATH"
    return None


def apt_install(runner: Callable[[Sequence[str]], int]) -> None:
    """Install the Debian package, retrying once after apt-get update; raise _Rejected on failure (d2l 3.5)."""
    cmd = ["apt-get", "install", "-y", APT_PACKAGE]
    if runner(cmd) == 0:
        return
    runner(["apt-get", "update"])
    status = runner(cmd)
    if status != 0:
        raise _Rejected(f"`{' '.join(cmd)}` failed (exit {status}), also after apt-get update")


def fix_command() -> str:
    """Return the one command that makes the dataset available on this machine (d2l 3.5)."""
    if debian_like():
        prefix = "" if running_as_root() else "sudo "
        return f"{prefix}apt-get install -y {APT_PACKAGE}"
    return (f"FASHION_MNIST_DIR=/path/to/files make data   "
            f"(get the four .gz files from {PROJECT_URL})")


def unavailable_message(tried: Sequence[str]) -> str:
    """Format the all-routes-failed message: one line per route, then the fix (d2l 3.5)."""
    lines = ["Fashion-MNIST is not available. Routes tried:"]
    lines += [f"  - {line}" for line in tried]
    lines += ["Fix it with:", f"  {fix_command()}"]
    return "\n".join(lines)


def _plan(cache, env_dir, system_dir, mirrors, tables, allow_download, allow_install, timeout,
          runner):
    """Yield (route, source, action) in priority order; action is a skip reason or a stager."""
    def from_dir(src):
        return lambda staging: verify_dir(src, staging, *tables)

    def apt(staging):
        apt_install(runner)
        return verify_dir(system_dir, staging, *tables)

    yield ENV_ROUTE, str(env_dir or ""), from_dir(Path(env_dir)) if env_dir else "not set"
    yield CACHE_ROUTE, str(raw_dir(cache)), None
    yield SYSTEM_ROUTE, str(system_dir), from_dir(system_dir)
    if not allow_download:
        yield DOWNLOAD_ROUTE, "", "downloads disabled"
    if mirrors is None and allow_download:
        mirrors = MIRRORS if MIRRORS is not None else torchvision().datasets.FashionMNIST.mirrors
    for mirror in list(mirrors) if allow_download else []:
        yield DOWNLOAD_ROUTE, mirror, lambda st, m=mirror: download(m, st, *tables, timeout)
    skip = "installs disabled" if not allow_install else apt_skip_reason()
    yield APT_ROUTE, APT_PACKAGE, skip or apt


def find_fashion_mnist(cache: Path, env_dir: str | Path | None = None, *,
                       system_dir: str | Path | None = None, mirrors: Sequence[str] | None = None,
                       raw_md5s: Mapping[str, str] = RAW_MD5,
                       archive_md5s: Mapping[str, str] | None = None,
                       allow_download: bool = True, allow_install: bool = True,
                       install_files: bool = True, timeout: float = DOWNLOAD_TIMEOUT,
                       apt_runner: Callable[[Sequence[str]], int] = run_command) -> Found:
    """Try every route in order and return the first that yields verified files (d2l 3.5)."""
    cache = Path(cache)
    system_dir = Path(system_dir) if system_dir is not None else SYSTEM_DIR
    archives = dict(archive_md5s) if archive_md5s is not None else None
    tried: list[str] = []
    plan = _plan(cache, env_dir, system_dir, mirrors, (raw_md5s, archives), allow_download,
                 allow_install, timeout, apt_runner)
    for route, source, action in plan:
        label = f"{route} ({source})" if source else route
        if isinstance(action, str):
            tried.append(f"{label}: skipped ({action})")
            continue
        try:
            if action is None:
                verify_cache(cache, raw_md5s)
                return Found(cache, route, source, tried)
            installed = _stage_and_install(action, cache, install_files)
            return Found(cache, route, source, tried, installed)
        except (_Rejected, OSError) as exc:
            tried.append(f"{label}: {exc}")
    raise DatasetUnavailable(unavailable_message(tried), tried)


def _stage_and_install(action, cache: Path, install_files: bool) -> bool:
    """Run a route's stager in a temp dir beside the cache, then os.replace each file into it.

    Staging on the same filesystem makes every install atomic: the cache never holds a half-file.
    """
    parent = raw_dir(cache) if install_files else None
    if parent:
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".staging-", dir=parent and parent.parent) as staging:
        for path in action(Path(staging)):
            if install_files:
                os.replace(path, parent / path.name)
    return install_files


def lookup(allow_download: bool = True, allow_install: bool = True,
           install_files: bool = True) -> Found:
    """Find the dataset using the environment's settings, remembering the answer per process (d2l 3.5)."""
    cache = cache_dir()
    record = _RECORD.get(str(cache))
    if record and all((raw_dir(cache) / name).is_file() for name in RAW_MD5):
        return record
    found = find_fashion_mnist(cache, os.environ.get(ENV_VAR) or None,
                               allow_download=allow_download, allow_install=allow_install,
                               install_files=install_files)
    if found.installed:
        _RECORD[str(cache)] = found
    return found


def locate_fashion_mnist(allow_download: bool = True, allow_install: bool = True) -> Path:
    """Return the torchvision root holding verified Fashion-MNIST, raising DatasetUnavailable (d2l 3.5)."""
    return lookup(allow_download, allow_install).root
