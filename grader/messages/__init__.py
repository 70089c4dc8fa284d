"""Message catalogues: the texts students read, keyed by stable ids, one reviewed JSON file per language."""
import functools
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = "en"


@functools.cache
def catalogue(language=DEFAULT):
    """Every text of ``language`` by id (a missing catalogue file is an empty one)."""
    path = HERE / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def text(key, language=DEFAULT, **values):
    """The text ``key`` in ``language`` (English where it has none), its ``{name}`` placeholders filled."""
    template = catalogue(language).get(key) or catalogue(DEFAULT).get(key)
    if template is None:
        raise KeyError(f"no message {key!r} in the catalogues")
    return template.format(**values) if values else template


def keys(prefix, language=DEFAULT):
    """The ids of ``language``'s catalogue that start with ``prefix``."""
    return [key for key in catalogue(language) if key.startswith(prefix)]
