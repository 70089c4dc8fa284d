"""Message catalogues: the texts students read, keyed by stable ids, one reviewed JSON file per language.

One JSON file per language (en.json, zh_CN.json) rather than gettext's .po and .mo: the catalogues are
read as they are committed, with no compile step in a handout or a Gradescope image; a reviewer reads
a language's whole file next to the English one; Chinese has no plural forms, and the few English
ones have their own ids (``.one``, ``.many``). The tests hold every catalogue to the same ids and the
same ``{name}`` placeholders.

The language is chosen once per process: ``--lang``, then D2L_KIT_LANG, then the language a handout
was released in (release.json, written by ``make release RELEASE_LANG=...``), then the locale
variables (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), then English. ``both`` shows Chinese, then English.
"""
import functools
import json
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = "en"
LANGUAGES = ("en", "zh_CN")
BOTH = "both"
NAMES = {"en": "en", "zh": "zh_CN", "zh_CN": "zh_CN", "both": BOTH}   # what --lang and D2L_KIT_LANG accept
VARIABLE = "D2L_KIT_LANG"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}
RELEASE = HERE / "release.json"   # a handout's language, as its instructor released it
# Ids whose English is in solutions/ itself (task text, docstrings): only the other languages hold them.
FROM_SOLUTIONS = ("stub.", "notebook.doc.")
HIDDEN_EVIDENCE = "evidence.hidden."   # the words of the hidden checks' evidence: never in a handout
_chosen = None


class LanguageError(ValueError):
    """A language the kit does not speak was asked for."""


@functools.cache
def catalogue(language=DEFAULT):
    """Every text of ``language`` by id (a missing catalogue file is an empty one)."""
    path = HERE / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def choose(requested=None, environ=None):
    """The language to speak: en, zh_CN or both, from ``requested`` (--lang), D2L_KIT_LANG or the locale."""
    environ = os.environ if environ is None else environ
    for origin, value in (("--lang", requested), (VARIABLE, environ.get(VARIABLE)), (str(RELEASE), _handout(RELEASE))):
        if value:
            if value not in NAMES:
                raise LanguageError(f"{origin} {value}: the kit speaks zh, en or both")
            return NAMES[value]
    for name in LOCALE_VARIABLES:
        if environ.get(name):
            return _from_locale(environ[name].split(":") if name == "LANGUAGE" else [environ[name]])
    return DEFAULT


def released(path):
    """The language of the handout whose release.json is ``path`` ("" in the kit itself, or where it is
    unreadable)."""
    try:
        return str(json.loads(Path(path).read_text(encoding="utf-8")).get("language", ""))
    except (OSError, ValueError, AttributeError):
        return ""


@functools.cache
def _handout(path):
    """released(path), read once per process: every text the process speaks asks for it."""
    return released(path)


def release_file(language):
    """The text of a handout's release.json for ``language``."""
    return json.dumps({"language": NAMES[language]}) + "\n"


def _from_locale(entries):
    """zh_CN for the first Chinese entry of a locale value (zh_CN.UTF-8, zh_TW, zh), else English."""
    for entry in entries:
        code = entry.split(".")[0].split("@")[0]
        if code.startswith("zh"):
            return "zh_CN"
        if code.startswith("en") or code in ("C", "POSIX"):
            return DEFAULT
    return DEFAULT


def use(language):
    """Speak ``language`` (en, zh_CN or both) in this process from now on; None: the environment's again."""
    global _chosen
    if language is not None and language not in (*LANGUAGES, BOTH):
        raise LanguageError(f"unknown language {language!r}")
    _chosen = language


def current():
    """The language of this process: the one ``use`` set, or else the environment's (English where the
    environment names one the kit does not speak: the command line says so before it starts)."""
    try:
        return _chosen or choose()
    except LanguageError:
        return DEFAULT


def text(key, language=None, **values):
    """The text ``key`` in ``language`` (the current one by default; English where it has none), its
    ``{name}`` placeholders filled. ``both``: the Chinese, then the English, a paragraph each for a hint."""
    language = NAMES.get(language, language) if language else current()
    if language == BOTH:
        return _both(key, values)
    template = catalogue(language).get(key) or catalogue(DEFAULT).get(key)
    if template is None:
        raise KeyError(f"no message {key!r} in the catalogues")
    return template.format(**values) if values else template


def _both(key, values):
    """The Chinese, then the English; a label that ends in the same value in both (a list, a path) says the value
    once, after the two labels."""
    chinese, english = (text(key, code, **values) for code in ("zh_CN", "en"))
    if chinese == english:
        return chinese
    last = re.search(r"\{(\w+)\}$", catalogue(DEFAULT).get(key, ""))
    if last and catalogue("zh_CN").get(key, "").endswith(last.group()) and values.get(last.group(1)):
        value = str(values[last.group(1)])
        return f"{chinese[:-len(value)].rstrip('：: ')} / {english}"
    return f"{chinese}{separator(key)}{english}"


@functools.cache
def pattern(key):
    """A regular expression for the text of message ``key`` in every language, whatever its placeholders hold;
    ``^key`` anchors it at the start."""
    start, key = ("^", key[1:]) if key.startswith("^") else ("", key)
    texts = {catalogue(code)[key] for code in LANGUAGES if key in catalogue(code)}
    if not texts:
        raise KeyError(f"no message {key!r} in the catalogues")
    return "|".join(start + "".join(r"[\s\S]*?" if piece.startswith("{") else re.escape(piece)
                                    for piece in re.split(r"(\{\w+\})", text) if piece) for text in sorted(texts))


def each(render, language=None, between=" / "):
    """``render(language)``; under ``both``, ``render`` in Chinese, then in English, joined by ``between``."""
    language = NAMES.get(language, language) if language else current()
    if language != BOTH:
        return render(language)
    return between.join(render(code) for code in ("zh_CN", "en"))


def counted(key, count, language=None, **values):
    """The text ``key.one`` or ``key.many`` for ``count`` things."""
    return text(f"{key}.{'one' if count == 1 else 'many'}", language, count=count, **values)


def separator(key):
    """What joins the two languages of ``key`` under ``both``: a new paragraph for a long text, else " / "."""
    return "\n" if key.endswith((".hint", ".note", ".intro", ".setup")) or key.startswith("notebook.try.") else " / "


def html_lang(language=None):
    """The HTML lang attribute of a page in ``language`` (both: the Chinese, which comes first)."""
    language = language or current()
    return HTML_LANG.get(language, "zh-CN")


def keys(prefix, language=DEFAULT):
    """The ids of ``language``'s catalogue that start with ``prefix``."""
    return [key for key in catalogue(language) if key.startswith(prefix)]
