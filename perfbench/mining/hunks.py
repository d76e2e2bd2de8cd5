"""What a ``-U0`` hunk really changes: data tables versus code, and changed tokens versus lines.

Two look-alikes fool a miner that reads whole lines. A commit that regenerates a
data table (Unicode tables, lock files) looks enormous although its code change is
small; and a line whose only change is an annotation (``X: Final = re.compile(...)``)
looks like it adds a precompiled regex. This module answers both from the hunk
text alone, so the scan needs no extra ``git`` process.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

# A line of a data table: literals, brackets and commas only (numbers, strings, tuples).
_LITERAL_LINE = re.compile(
    r"""^\s*(?:[A-Za-z_]\w*\s*(?::\s*[\w.\[\], ]+)?=\s*)?  # an optional NAME = (a constant)
    (?:\s*(?:
        [-+]?(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?)  # a number
      | [rRbBuU]{0,2}'(?:[^'\\]|\\.)*'                                       # a string
      | [rRbBuU]{0,2}"(?:[^"\\]|\\.)*"
      | [\[\](){},:]                                                        # structure
      | (?:True|False|None)\b
    ))*\s*(?:\#.*)?$""",
    re.VERBOSE,
)
_GENERATED_MARK = re.compile(
    r"(?:auto(?:matically)?[- ]generated|generated (?:by|from|with)|do not edit|@generated)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+|[^\w\s]")


def hunk_lines(text: str) -> tuple[list[str], list[str]]:
    """The removed and added lines of a file's ``-U0`` hunks (without their markers)."""
    removed: list[str] = []
    added: list[str] = []
    for line in text.split("\n"):
        if line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
        elif line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
    return removed, added


def looks_like_data(text: str, *, min_lines: int, min_share: float) -> bool:
    """Whether a file's changes are a generated or data table rather than code.

    A file counts as data when it has at least ``min_lines`` changed lines and either
    says it is generated, or at least ``min_share`` of its changed non-blank lines are
    plain literals (numbers, strings, brackets and commas).
    """
    removed, added = hunk_lines(text)
    lines = [ln for ln in removed + added if ln.strip()]
    if len(lines) < min_lines:
        return False
    if any(_GENERATED_MARK.search(ln) for ln in added[:50] + removed[:50]):
        return True
    literal = sum(1 for ln in lines if _LITERAL_LINE.match(ln))
    return literal >= min_share * len(lines)


def only_comments(text: str, prefixes: list[str]) -> bool:
    """Whether every non-blank changed line of a file's hunks is a comment.

    ``prefixes`` are the comment markers of the file's language (``#`` for Python,
    ``//``, ``/*`` and ``*`` for C). A commit that only writes comments ("add a note
    about this optimisation") changes no behaviour, however its message reads. With no
    prefixes, or no changed line at all, the answer is no: nothing is known.
    """
    if not prefixes:
        return False
    removed, added = hunk_lines(text)
    lines = [ln.strip() for ln in removed + added if ln.strip()]
    return bool(lines) and all(ln.startswith(tuple(prefixes)) for ln in lines)


def _hunks(text: str) -> Iterator[tuple[list[str], list[str]]]:
    """Per ``@@`` hunk, its removed and added lines."""
    for chunk in re.split(r"\n(?=@@)", text):
        if chunk.startswith("@@") or chunk.startswith("\n@@"):
            yield hunk_lines(chunk.partition("\n")[2])


def changed_text(text: str, *, pair_ratio: float = 0.5) -> list[str]:
    """The text a file's hunks add, cut down to the tokens that changed.

    A removed and an added line of one hunk are paired when they are similar
    (``difflib`` ratio at least ``pair_ratio``); from a paired added line only the
    spans of inserted or replaced tokens are kept, as they appear in the line (so a
    regex such as ``re\\.compile\\(`` can still match them). Unpaired added lines
    are new code and are kept whole.
    """
    out: list[str] = []
    for removed, added in _hunks(text):
        free = list(removed)
        for line in added:
            best, best_ratio = None, pair_ratio
            for i, old in enumerate(free):
                matcher = difflib.SequenceMatcher(None, old, line, autojunk=False)
                if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                    continue
                ratio = matcher.ratio()
                if ratio >= best_ratio:
                    best, best_ratio = i, ratio
            if best is None:
                out.append(line)
                continue
            out.extend(_inserted_spans(free.pop(best), line))
    return out


def _inserted_spans(old: str, new: str) -> list[str]:
    """The spans of ``new`` whose tokens are not in ``old`` (inserted or replaced).

    A span is widened to the dotted name it is part of and to a call's opening
    bracket, so that ``re.findall(p, s)`` changed into ``re.compile(p)`` yields
    ``re.compile(`` and not just ``compile``.
    """
    old_tokens = _TOKEN.findall(old)
    matches = list(_TOKEN.finditer(new))
    tokens = [m.group() for m in matches]
    spans: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_tokens, tokens, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("insert", "replace") or j2 <= j1:
            continue
        while j1 >= 2 and tokens[j1 - 1] == "." and tokens[j1 - 2][-1:].isalnum():
            j1 -= 2
        while j2 < len(tokens) and tokens[j2] in ("(", "["):
            j2 += 1
        spans.append(new[matches[j1].start() : matches[j2 - 1].end()])
    return spans
