"""Similar submissions, for the instructor only: every pair of students compared on their own code.

Each stub module is normalised to a stream of tokens: comments, docstrings, imports, blank lines and
layout go; a literal keeps only its kind; a name the student chose becomes one placeholder, while
keywords, builtins, torch's attribute names and keyword arguments stay. The stream's k-grams (K
tokens in a row) are the module's fingerprints. The k-grams of the stubs every student starts from
(and of any other shared code, such as the book's) are taken away, so what remains is the student's
own code: a student who handed in the untouched stubs has nothing to compare and is left out. Two
students' similarity is the Jaccard index of their remaining k-grams: 1 when their own code is the
same once normalised, whatever its names and layout.
"""
import builtins
import csv
import functools
import io
import keyword
import os
import re
import stat
import sys
import tokenize
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from .. import messages, notebook
from ..files import write_atomic
from ..release import stubgen
from ..table import STUBS
from .gradebook import cell

THRESHOLD = 0.8          # the similarity at or above which a pair is listed in similar.csv
K = 7                    # tokens per k-gram
FILE_LIMIT = 1 << 20     # the most of a module that is read
NAME = "similar.csv"     # the file the pairs are written to
CHOSEN, NUMBER, TEXT = "·", "0", "''"   # what a chosen name, a number and a string become
OPENING, CLOSING = "([{", ")]}"
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
FSTRING_START = getattr(tokenize, "FSTRING_START", None)   # Python 3.12 splits f-strings into tokens
FSTRING_END = getattr(tokenize, "FSTRING_END", None)
MODULES = {"torch", "nn", "F", "np", "numpy"}


@dataclass(frozen=True)
class Pair:
    """Two students and how alike their own code is: 0 (nothing shared) to 1 (identical once normalised)."""

    student_a: str
    student_b: str
    similarity: float


@functools.cache
def torch_names():
    """The attribute names of torch, its tensors and its nn, functional and optim modules."""
    try:
        import torch
        import torch.nn.functional
    except ImportError:   # without torch, its attributes are compared as chosen names
        return frozenset()
    spaces = (torch, torch.Tensor, torch.nn, torch.nn.functional, torch.optim, torch.nn.Module)
    return frozenset(name for space in spaces for name in dir(space))


@functools.cache
def language_names():
    """The names no student chooses: keywords, builtins and the standard library's modules."""
    return frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) \
        | frozenset(sys.stdlib_module_names) | MODULES


def _name(word, after_dot, keyword_argument):
    """A name as it is compared: kept when the language or torch gives it, else the placeholder."""
    if (word in language_names() and word != "_") or keyword_argument:
        return word
    return word if after_dot and word in torch_names() else CHOSEN


def _raw_tokens(source):
    """(type, text) of every token that carries code, an f-string as one string; tokenize's errors propagate."""
    found, depth = [], 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if FSTRING_START is not None and token.type in (FSTRING_START, FSTRING_END):
            depth += 1 if token.type == FSTRING_START else -1
            if depth == 0:
                found.append((tokenize.STRING, TEXT))
        elif depth == 0 and token.type not in SKIPPED:
            found.append((token.type, token.string))
    return found


def _statements(raw):
    """The tokens split into logical lines; INDENT and DEDENT are lines of their own."""
    lines, line = [], []
    for kind, text in raw:
        if kind in (tokenize.INDENT, tokenize.DEDENT):
            lines += [line, [(kind, "{" if kind == tokenize.INDENT else "}")]]
            line = []
        elif kind == tokenize.NEWLINE:
            lines.append(line + [(kind, ";")])
            line = []
        else:
            line.append((kind, text))
    return [found for found in lines + [line] if found]


def _kept(line):
    """False for a docstring (a statement of strings alone) and for an import."""
    code = [kind for kind, _ in line if kind != tokenize.NEWLINE]
    if code and all(kind == tokenize.STRING for kind in code):
        return False
    return not (line[0][0] == tokenize.NAME and line[0][1] in ("import", "from"))


def _grouping(line, index):
    """True for a parenthesis that only groups (not a call's): the layout may add or drop it."""
    if line[index][1] != "(" or index == 0:
        return line[index][1] == "("
    kind, text = line[index - 1]
    return not (kind in (tokenize.NAME, tokenize.STRING) and not keyword.iskeyword(text) or text in (")", "]"))


def _normalise(line):
    """One logical line's tokens as they are compared; grouping parentheses and trailing commas are layout."""
    out, opened, defines = [], [], line[0][1] in ("def", "async", "lambda")
    for index, (kind, text) in enumerate(line):
        after = line[index + 1][1] if index + 1 < len(line) else ""
        if kind == tokenize.NAME:
            argument = bool(opened) and after == "=" and not defines
            out.append(_name(text, index > 0 and line[index - 1][1] == ".", argument))
        elif kind in (tokenize.NUMBER, tokenize.STRING):
            if not (kind == tokenize.STRING and out and out[-1] == TEXT):   # "a" "b" is one string
                out.append(NUMBER if kind == tokenize.NUMBER else TEXT)
        elif text in OPENING:
            opened.append(_grouping(line, index))
            out += [] if opened[-1] else [text]
        elif text in CLOSING:
            out += [] if opened and opened.pop() else [text]
        elif not (text == "," and after in CLOSING):
            out.append(text)
    return out


def _plain(source):
    """Tokens of code that Python cannot tokenize: words, numbers and single characters, comments dropped."""
    out = []
    for line in source.splitlines():
        for word in re.findall(r"[A-Za-z_]\w*|\d[\w.]*|\S", line.split("#", 1)[0]):
            out.append(NUMBER if word[0].isdigit() else _name(word, False, False) if word[0].isalpha() or
                       word[0] == "_" else word)
    return out


def _pieces(source):
    """The source cut before every line that starts a top-level statement."""
    lines = source.splitlines(keepends=True)
    starts = [number for number, line in enumerate(lines) if re.match(r"[^\s#)\]}]", line)] or [0]
    starts[0] = 0
    return ["".join(lines[begin:end]) for begin, end in zip(starts, starts[1:] + [len(lines)])]


def _python(source):
    """The normalised tokens of source that Python tokenizes; its errors propagate."""
    return [token for line in _statements(_raw_tokens(source)) if _kept(line) for token in _normalise(line)]


def tokens(source):
    """The normalised tokens of a module's source; a top-level statement Python cannot tokenize is read as plain
    words, the rest as Python."""
    try:
        return _python(source)
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    found = []
    for piece in _pieces(source):
        try:
            found += _python(piece)
        except (tokenize.TokenError, SyntaxError, ValueError):
            found += _plain(piece)
    return found


def kgrams(source, k=K):
    """The set of k-grams (hashed) of a module's normalised tokens."""
    found = tokens(source)
    return {hash(tuple(found[start:start + k])) for start in range(len(found) - k + 1)}


@functools.cache
def stub_texts():
    """The stubs every student starts from: exercises/, and the stubs generated from solutions/ in every language."""
    texts = []
    solutions = stubgen.ROOT / "solutions"
    if solutions.is_dir():
        for language in (*messages.LANGUAGES, messages.BOTH):
            texts += stubgen.expected_exercises(solutions, language).values()
    texts += [path.read_text(encoding="utf-8") for path in sorted((stubgen.ROOT / "exercises").glob("*.py"))]
    return tuple(texts)


def boilerplate(texts=None, shared=()):
    """The k-grams that are nobody's own: those of the stubs (``texts``, default stub_texts()) and of ``shared``."""
    found = set()
    for text in (*(stub_texts() if texts is None else texts), *shared):
        found |= kgrams(text)
    return frozenset(found)


def _read(path):
    """A regular file's text (a link is not followed), at most FILE_LIMIT bytes; None when it cannot be read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return handle.read(FILE_LIMIT).decode("utf-8", "replace")


def modules(folder):
    """{stub: source} of a submission: its stub modules, or the answer cells of its notebooks."""
    found = {}
    for path in notebook.notebooks_in(folder):
        try:
            answers = notebook.answers(notebook.read(path))
        except notebook.NotebookError:
            continue
        for stub, source in answers.items():
            found.setdefault(stub, notebook.module_text(stub, source))
    if found:
        return found
    texts = {stub: _read(Path(folder) / f"{stub}.py") for stub in STUBS}
    return {stub: text for stub, text in texts.items() if text is not None}


def own_kgrams(folder, common=frozenset()):
    """The k-grams of a submission's stub modules less those in ``common``."""
    found = set()
    for source in modules(folder).values():
        found |= kgrams(source)
    return frozenset(found - common)


def jaccard(first, second):
    """|A ∩ B| / |A ∪ B| of two sets; 0 when both are empty."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def find(submissions, threshold=THRESHOLD, stubs=None, shared=()):
    """The pairs of (student, folder) submissions at or above ``threshold``, most similar first. ``stubs``: the stub
    texts (default stub_texts()); ``shared``: more code that is nobody's own. Students without own code are left out."""
    common = boilerplate(stubs, shared)
    own = {student: own_kgrams(folder, common) for student, folder in submissions}
    own = {student: found for student, found in own.items() if found}
    pairs = [Pair(*sorted((a, b)), jaccard(own[a], own[b])) for a, b in combinations(sorted(own), 2)]
    return sorted(similar(pairs, threshold), key=lambda pair: (-pair.similarity, pair.student_a, pair.student_b))


def similar(pairs, threshold=THRESHOLD):
    """The pairs at or above ``threshold``, in their order."""
    return [pair for pair in pairs if pair.similarity >= threshold]


def to_csv(pairs, threshold=THRESHOLD):
    """similar.csv's text: student_a, student_b and similarity (3 decimals) of the pairs at or above ``threshold``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("student_a", "student_b", "similarity"))
    for pair in similar(pairs, threshold):
        writer.writerow((cell(pair.student_a), cell(pair.student_b), f"{pair.similarity:.3f}"))
    return buffer.getvalue()


def write_csv(pairs, path, threshold=THRESHOLD):
    """Write similar.csv atomically (``path``: the file, or a folder to hold it); return its path."""
    path = Path(path)
    path = path / NAME if path.is_dir() else path
    return write_atomic(path, to_csv(pairs, threshold))
