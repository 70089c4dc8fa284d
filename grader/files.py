"""Writing files so that a reader never sees half of one: the kit's one atomic-write helper."""
import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path, data, mode=0o644):
    """Write ``data`` (bytes or text, as UTF-8) to a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
