"""Inputs that make a changed regular expression slow: its match without the closing part, repeated.

Many speed-ups rewrite a pattern that backtracks or rescans (``<[^>]*>`` becoming
``<[^<>]*>``): the old one is quadratic only on text where a match starts and never
closes, which a test suite rarely holds. The slow input follows from the pattern itself,
as in ReDoS analysis: build one string the base pattern matches, cut its last part (the
terminator), and repeat what is left, so every start scans on to the end. The replay
generator appends such a *pump* to the recorded texts (mode ``pump``) and keeps it only
when trial runs show base slower than opt on it.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

try:  # Python 3.11+
    import re._constants as sre_constants  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from .changes import ChangeSet

log = logging.getLogger(__name__)

MAX_PUMPS = 3
_MAX_SAMPLE = 80
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_SYNTAX = re.compile(r"[\[\](){}*+?|\\]")


def _pick(items: list) -> str | None:
    """One character a character class (``IN``) accepts, preferring letters."""
    negate = any(op == sre_constants.NEGATE for op, _ in items)
    allowed: list[str] = []
    excluded: set[str] = set()
    for op, av in items:
        if op == sre_constants.LITERAL:
            if negate:
                excluded.add(chr(av))
            else:
                allowed.append(chr(av))
        elif op == sre_constants.RANGE:
            lo, hi = av
            if negate:
                excluded.update(chr(c) for c in range(lo, min(hi, lo + 256) + 1))
            else:
                allowed.append(chr(lo))
        elif op == sre_constants.CATEGORY:
            name = str(av)
            sample = "0" if "DIGIT" in name else (" " if "SPACE" in name else "a")
            if "NOT" in name:
                sample = "a" if sample != "a" else "-"
            if negate:
                excluded.add(sample)
            else:
                allowed.append(sample)
    if not negate:
        return allowed[0] if allowed else None
    for c in "aZ0 x-_.":
        if c not in excluded:
            return c
    return None


def _sample(parsed, out: list[str]) -> bool:
    """Append to ``out`` a string the parsed pattern matches (first branches, repeats at least once)."""
    for op, av in parsed:
        if len(out) > _MAX_SAMPLE:
            return False
        if op == sre_constants.LITERAL:
            out.append(chr(av))
        elif op == sre_constants.NOT_LITERAL:
            out.append("a" if chr(av) != "a" else "b")
        elif op == sre_constants.ANY:
            out.append("a")
        elif op == sre_constants.IN:
            c = _pick(av)
            if c is None:
                return False
            out.append(c)
        elif op in _REPEATS:
            low, _high, sub = av
            for _ in range(max(low, 1)):
                if not _sample(sub, out):
                    return False
        elif op == sre_constants.SUBPATTERN:
            if not _sample(av[-1], out):
                return False
        elif op == sre_constants.BRANCH:
            if not _sample(av[1][0], out):
                return False
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue
        else:  # group references, conditionals: no simple sample
            return False
    return True


def attack_strings(pattern: str, flags: int = 0) -> list[str]:
    """Pumps for one pattern: a match of it with its last one or two characters cut."""
    try:
        parsed = sre_parse.parse(pattern, flags)
        compiled = re.compile(pattern, flags)
    except (re.error, RecursionError, ValueError):
        return []
    out: list[str] = []
    if not _sample(parsed, out):
        return []
    sample = "".join(out)
    if not sample or not compiled.search(sample):
        return []
    found = []
    for cut in (1, 2):
        head = sample[:-cut]
        if len(head) >= 1 and head not in found:
            found.append(head)
    return found


def _looks_like_regex(text: str) -> bool:
    return len(text) >= 3 and bool(_SYNTAX.search(text))


def changed_patterns(base_tree: Path, changes: ChangeSet) -> list[str]:
    """String literals on the commit's changed lines (at base) that are regular expressions."""
    found: list[str] = []
    for path, lines in changes.changed_lines.items():
        if not path.endswith(".py") or not lines:
            continue
        try:
            tree = ast.parse((base_tree / path).read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError):
            continue
        wanted = set(lines)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            span = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            if span & wanted and _looks_like_regex(node.value) and node.value not in found:
                found.append(node.value)
    return found


def pumps_for(base_tree: Path, changes: ChangeSet) -> list[str]:
    """Up to ``MAX_PUMPS`` pump strings from the changed patterns, longest first."""
    found: list[str] = []
    for pattern in changed_patterns(base_tree, changes):
        for text in attack_strings(pattern):
            if text not in found:
                found.append(text)
    found.sort(key=lambda s: (-len(s), s))
    return found[:MAX_PUMPS]
