"""Terminal columns: Chinese and other wide characters take two columns, so widths, clipping and wrapping
count columns, not characters, and a line may break between two Chinese characters as well as at a space."""
import re
import unicodedata

_PIECES = re.compile(r"\s+|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|.")
_NO_LINE_START = set("，。、；：！？）》」』”’…")   # Chinese punctuation that never begins a line


def width(text):
    """The columns ``text`` takes in a terminal: 2 for a wide or full-width character, 0 for a combining one."""
    return sum(0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
               for char in text)


def clip(text, columns):
    """``text`` cut to at most ``columns`` columns, ending in … when cut."""
    if width(text) <= columns:
        return text
    kept, used = [], 1
    for char in text:
        used += width(char)
        if used > columns:
            break
        kept.append(char)
    return "".join(kept) + "…"


def wrap(text, columns, first="", rest=None):
    """``text`` (one paragraph) as lines of at most ``columns`` columns, indents included, where it can."""
    rest = first if rest is None else rest
    lines, line, last = [], first, ""   # last: the piece the line ends with
    for piece in _PIECES.findall(" ".join(text.split())):
        if piece == " ":
            line += piece if line.strip() else ""
            last = ""
            continue
        if width(line) + width(piece) > columns and line.strip():
            carried = last if piece in _NO_LINE_START and last and line.strip() != last else ""
            lines.append(line[:len(line) - len(carried)].rstrip())
            line = rest + carried
        while width(rest) + width(piece) > columns and len(piece) > 1:   # a word longer than a line
            cut = len(clip(piece, columns - width(line))) - 1
            lines.append(line + piece[:max(cut, 1)])
            piece, line = piece[max(cut, 1):], rest
        line, last = line + piece, piece
    return lines + [line.rstrip()] if line.strip() else lines
