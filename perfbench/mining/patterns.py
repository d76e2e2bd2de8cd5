"""The miner's rules: weighted message regexes, gitignore-style path globs, and the settings.

Rules are data (``perfbench/data/mining_defaults.json``), so tuning the miner for a
new repository means editing JSON, not code. Everything here compiles once per scan;
the per-commit work is a handful of precompiled regex searches and dict lookups.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InputError

DEFAULTS_FILE = "mining_defaults.json"


@dataclass(frozen=True)
class WeightedPattern:
    """A case-insensitive regex that counts ``weight`` towards a commit's score when it matches."""

    pattern: str
    weight: float = 1.0
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.pattern


@dataclass(frozen=True)
class NegativePattern:
    """A regex for speed that is not the product's (CI, test suite, builds, docs, reverts).

    Its matched text is blanked out before the perf patterns are tried again, so
    "speed up CI and make parse faster" still counts while "speed up CI" does not.
    With ``whole`` a match vetoes the entire message (conventional ``ci:`` prefixes).
    ``code`` is the rejection code, ``label`` says what the message is about.
    """

    pattern: str
    code: str = "ci-only"
    label: str = "CI speed"
    whole: bool = False


def compile_regex(pattern: str, *, field: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InputError(f"bad regular expression {pattern!r}: {exc}", field=field) from None


def _top_level_bar(pattern: str) -> bool:
    """Whether the regex is an alternation at its top level (then ``\\b`` cannot be factored)."""
    depth, in_class, escaped = 0, False, False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
    return False


def any_of(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation of all patterns: a single search rejects most messages cheaply.

    A leading ``\\b`` is factored out of the patterns that have one, so the engine
    tries the alternatives only at word starts; that halves the time per message.
    """
    patterns = list(patterns)
    at_word = [p[2:] for p in patterns if p.startswith("\\b") and not _top_level_bar(p)]
    others = [f"(?:{p})" for p in patterns if not p.startswith("\\b") or _top_level_bar(p)]
    if at_word:
        others.insert(0, "\\b(?:" + "|".join(f"(?:{p})" for p in at_word) + ")")
    return re.compile("|".join(others), re.IGNORECASE) if others else None


# --- path globs ---------------------------------------------------------------------------


def _glob_body(pattern: str) -> str:
    """Regex for a glob where ``*`` and ``?`` stay inside one path component and ``**`` crosses."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class PathGlob:
    """A gitignore-style pattern.

    ``tests/`` matches a folder named tests at any depth, ``test_*.py`` a file name at
    any depth, ``src/pkg`` (a slash inside) is anchored at the repository root. A
    pattern matching a folder matches everything below it.
    """

    pattern: str

    def parts(self) -> tuple[str, bool, bool]:
        """(body, anchored, folder_only)."""
        p = self.pattern.strip()
        folder_only = p.endswith("/")
        p = p.rstrip("/")
        anchored = "/" in p
        return p.lstrip("/"), anchored, folder_only

    def regex(self) -> str:
        body, anchored, folder_only = self.parts()
        if not body:
            raise InputError(f"empty path pattern {self.pattern!r}")
        prefix = "" if anchored else "(?:.*/)?"
        suffix = "/.*" if folder_only else "(?:/.*)?"
        return prefix + _glob_body(body) + suffix

    def pathspecs(self) -> list[str]:
        """Git ``:(glob)`` pathspecs selecting at least what :meth:`regex` matches."""
        body, anchored, folder_only = self.parts()
        base = body if anchored else f"**/{body}"
        return [f"{base}/**"] if folder_only else [base, f"{base}/**"]


class PathSet:
    """A set of globs compiled into one regex; ``match`` answers whether any glob matches."""

    def __init__(self, patterns: Sequence[str], *, field: str) -> None:
        self.patterns = list(patterns)
        regexes = []
        for i, p in enumerate(self.patterns):
            if not isinstance(p, str) or not p.strip():
                raise InputError(
                    f"expected a non-empty path pattern, got {p!r}", field=f"{field}[{i}]"
                )
            regexes.append(PathGlob(p).regex())
        self._re = re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None

    def __bool__(self) -> bool:
        return self._re is not None

    def match(self, path: str) -> bool:
        return self._re is not None and self._re.fullmatch(path) is not None

    def pathspecs(self, magic: str = "glob") -> list[str]:
        return [f":({magic}){s}" for p in self.patterns for s in PathGlob(p).pathspecs()]


# --- matchers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageVerdict:
    """What a message says: the perf labels it matched (with weights), or why it does not count."""

    signals: list[tuple[str, float]]
    rejection: str | None = None


class MessageMatcher:
    """Finds performance claims in commit messages, discounting CI, test-suite and docs speed."""

    def __init__(
        self, perf: Sequence[WeightedPattern], negative: Sequence[NegativePattern]
    ) -> None:
        self.perf = [
            (p, compile_regex(p.pattern, field=f"perf_patterns[{i}]")) for i, p in enumerate(perf)
        ]
        self.negative = [
            (n, compile_regex(n.pattern, field=f"negative_patterns[{i}]"))
            for i, n in enumerate(negative)
        ]
        self._any = any_of(p.pattern for p in perf)

    def has_signal(self, text: str) -> bool:
        return self._any is not None and self._any.search(text) is not None

    def judge(self, message: str) -> MessageVerdict:
        if not self.has_signal(message):
            return MessageVerdict([], "no-perf-signal: the message names no performance change")
        blanked = message
        first: NegativePattern | None = None
        for neg, regex in self.negative:
            if neg.whole:
                if regex.search(message):
                    return MessageVerdict([], f"{neg.code}: message is about {neg.label}")
                continue
            blanked, n = regex.subn(lambda m: " " * len(m.group()), blanked)
            if n and first is None:
                first = neg
        if first is not None and not self.has_signal(blanked):
            return MessageVerdict([], f"{first.code}: message is about {first.label}")
        cut = len(message.split("\n\n", 1)[0])
        subject, body = blanked[:cut], blanked[cut:]
        signals: dict[str, float] = {}
        for pat, regex in self.perf:
            weight = (
                pat.weight if regex.search(subject) else pat.weight / 2 if regex.search(body) else 0
            )
            if weight:
                signals[pat.name] = max(signals.get(pat.name, 0.0), weight)
        return MessageVerdict(list(signals.items()))


class DiffMatcher:
    """Looks for speed-up idioms in added source lines (caches, sets, bisect, compiled code)."""

    def __init__(self, patterns: Sequence[WeightedPattern], *, max_chars: int = 200_000) -> None:
        self.patterns = [
            (p, compile_regex(p.pattern, field=f"diff_patterns[{i}]"))
            for i, p in enumerate(patterns)
        ]
        self.max_chars = max_chars

    def signals(self, added_lines: Sequence[str]) -> list[tuple[str, float]]:
        text = "\n".join(added_lines)[: self.max_chars]
        found: dict[str, float] = {}
        for pat, regex in self.patterns:
            if regex.search(text):
                found[pat.name] = max(found.get(pat.name, 0.0), pat.weight)
        return list(found.items())


class PathClassifier:
    """Sorts changed paths into source, test and other files, and applies the path filters.

    Results are cached per path: a history touches the same files again and again.
    """

    def __init__(
        self,
        *,
        include: Sequence[str],
        exclude: Sequence[str],
        tests: Sequence[str],
        non_source: Sequence[str],
        source_exts: Sequence[str],
    ) -> None:
        self.include = PathSet(include, field="include_paths")
        self.exclude = PathSet(exclude, field="exclude_paths")
        self.tests = PathSet(tests, field="test_patterns")
        self.non_source = PathSet(non_source, field="non_source_patterns")
        for i, ext in enumerate(source_exts):
            if not isinstance(ext, str) or not ext.startswith("."):
                raise InputError(
                    f"expected an extension like '.py', got {ext!r}", field=f"source_exts[{i}]"
                )
        self.exts = frozenset(e.lower() for e in source_exts)
        self._cache: dict[str, str | None] = {}

    def kind(self, path: str) -> str | None:
        """'source', 'test' or 'other'; None when the path filters leave the path out."""
        try:
            return self._cache[path]
        except KeyError:
            pass
        if (self.include and not self.include.match(path)) or self.exclude.match(path):
            kind = None
        elif self.tests.match(path):
            kind = "test"
        elif self.non_source.match(path):
            kind = "other"
        else:
            kind = "source" if os.path.splitext(path)[1].lower() in self.exts else "other"
        self._cache[path] = kind
        return kind

    def pathspecs(self) -> list[str]:
        """Git pathspecs that pass at least the paths :meth:`kind` keeps (a pre-filter).

        Only anchored include patterns are handed to git: they let it skip whole
        trees. Unanchored or exclude patterns (``**/vendor/**``) make git match every
        path of every commit, which measured slower than filtering here.
        """
        if not self.include or not all(PathGlob(p).parts()[1] for p in self.include.patterns):
            return []
        return self.include.pathspecs()


# --- defaults -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _defaults_text() -> str:
    return (Path(__file__).resolve().parent.parent / "data" / DEFAULTS_FILE).read_text()


def load_defaults() -> dict[str, Any]:
    """The shipped defaults as a fresh dict (callers may change it)."""
    return json.loads(_defaults_text())


def load_json(path: str | Path) -> dict[str, Any]:
    """A user's JSON overrides, with errors that name the file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"cannot read mining config: {exc.strerror}", source=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", source=path, line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=path)
    return data


# --- configuration --------------------------------------------------------------------------

ORDERS = ("score", "date")


def _default(name: str) -> Callable[[], Any]:
    """A factory for one shipped default, copied so that no two configs share a list."""
    return lambda: copy.deepcopy(_defaults()[name])


@dataclass
class ScanConfig:
    """What the scan keeps. Unset fields take the shipped defaults (``data/mining_defaults.json``).

    ``since``/``until`` (ISO strings or dates) bound the committer date, as ``git log
    --since`` does; a bare date is a whole day in UTC, so ``until="2023-12-31"``
    includes that day. Path
    patterns follow .gitignore rules. Sizes count lines of non-test source files.
    ``order`` is ``score`` (best first) or ``date`` (newest first; with
    ``max_candidates`` the scan then stops reading history early).
    ``require_message_signal=False`` also keeps commits whose diff alone shows a
    speed-up idiom; it reads the patch of every commit that passes the path and file-count
    filters, so it costs far more on a long history. ``comment_prefixes`` maps a file
    extension to its comment markers; a commit whose code changes are all comment lines
    is rejected as ``comment-only``.
    """

    since: str | date | None = None
    until: str | date | None = None
    include_paths: list[str] = field(default_factory=_default("include_paths"))
    exclude_paths: list[str] = field(default_factory=_default("exclude_paths"))
    max_files: int = field(default_factory=_default("max_files"))
    max_lines: int = field(default_factory=_default("max_lines"))
    min_lines: int = field(default_factory=_default("min_lines"))
    perf_patterns: list[WeightedPattern] = field(default_factory=_default("perf_patterns"))
    negative_patterns: list[NegativePattern] = field(default_factory=_default("negative_patterns"))
    test_patterns: list[str] = field(default_factory=_default("test_patterns"))
    source_exts: list[str] = field(default_factory=_default("source_exts"))
    max_candidates: int | None = field(default_factory=_default("max_candidates"))
    non_source_patterns: list[str] = field(default_factory=_default("non_source_patterns"))
    diff_patterns: list[WeightedPattern] = field(default_factory=_default("diff_patterns"))
    order: str = field(default_factory=_default("order"))
    diff_signals: bool = field(default_factory=_default("diff_signals"))
    require_message_signal: bool = field(default_factory=_default("require_message_signal"))
    min_message_weight: float = field(default_factory=_default("min_message_weight"))
    data_patterns: list[str] = field(default_factory=_default("data_patterns"))
    data_min_lines: int = field(default_factory=_default("data_min_lines"))
    data_literal_share: float = field(default_factory=_default("data_literal_share"))
    comment_prefixes: dict[str, list[str]] = field(default_factory=_default("comment_prefixes"))
    rev: str = "HEAD"

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | Path | None = None) -> ScanConfig:
        """Settings from JSON-like data; unknown names are errors, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known and not key.startswith("_"):
                raise InputError(
                    f"unknown setting; known ones: {', '.join(sorted(known))}",
                    source=source,
                    field=key,
                )
        return cls(**_parse_settings({k: v for k, v in data.items() if k in known}, source))

    @classmethod
    def from_file(cls, path: str | Path) -> ScanConfig:
        return cls.from_dict(load_json(path), source=path)


_KINDS: dict[str, Any] = {
    "since": "date",
    "until": "date",
    "rev": str,
    "include_paths": "strs",
    "exclude_paths": "strs",
    "test_patterns": "strs",
    "non_source_patterns": "strs",
    "source_exts": "strs",
    "max_files": int,
    "max_lines": int,
    "min_lines": int,
    "max_candidates": "opt_int",
    "perf_patterns": WeightedPattern,
    "diff_patterns": WeightedPattern,
    "negative_patterns": NegativePattern,
    "order": str,
    "diff_signals": bool,
    "require_message_signal": bool,
    "min_message_weight": float,
    "data_patterns": "strs",
    "data_min_lines": int,
    "data_literal_share": float,
    "comment_prefixes": "ext_strs",
}


def _parse_settings(data: dict[str, Any], source: str | Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        kind = _KINDS[key]

        def bad(expected: str, key: str = key, value: Any = value) -> InputError:
            return InputError(f"expected {expected}, got {value!r}", source=source, field=key)

        if kind == "date":
            if value is not None and not isinstance(value, (str, date)):
                raise bad("a date such as 2023-01-31")
            out[key] = value
        elif kind == "strs":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad("a list of strings")
            out[key] = list(value)
        elif kind == "ext_strs":
            if not isinstance(value, dict) or not all(
                isinstance(k, str)
                and k.startswith(".")
                and isinstance(v, list)
                and all(isinstance(x, str) and x for x in v)
                for k, v in value.items()
            ):
                raise bad('an object of file extensions to lists of strings, e.g. {".py": ["#"]}')
            out[key] = {k: list(v) for k, v in value.items()}
        elif kind == "opt_int" or kind is int:
            if (value is None and kind == "opt_int") or (
                isinstance(value, int) and not isinstance(value, bool)
            ):
                out[key] = value
            else:
                raise bad("a whole number")
        elif kind is float:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise bad("a number")
            out[key] = float(value)
        elif kind in (WeightedPattern, NegativePattern):
            out[key] = _parse_patterns(value, kind, key, source)
        elif not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise bad(kind.__name__)
        else:
            out[key] = value
    return out


_PATTERN_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "pattern": str,
    "label": str,
    "code": str,
    "whole": bool,
    "weight": (int, float),
}
_PATTERN_FIELD_NAMES = {
    "pattern": "a string",
    "label": "a string",
    "code": "a string",
    "whole": "true or false",
    "weight": "a number",
}


def _parse_patterns(value: Any, cls: type, key: str, source: str | Path | None) -> list[Any]:
    if not isinstance(value, list):
        raise InputError("expected a list of patterns", source=source, field=key)
    names = {f.name for f in fields(cls)}
    result = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(item, str):
            item = {"pattern": item}
        if not isinstance(item, dict) or not isinstance(item.get("pattern"), str):
            raise InputError(
                "expected a regex string or an object with 'pattern'", source=source, field=where
            )
        unknown = set(item) - names
        if unknown:
            raise InputError(
                f"unknown keys {sorted(unknown)}; known: {sorted(names)}",
                source=source,
                field=where,
            )
        for name, value in item.items():
            expected = _PATTERN_FIELD_TYPES[name]
            if not isinstance(value, expected) or (
                expected is not bool and isinstance(value, bool)
            ):
                raise InputError(
                    f"{name} must be {_PATTERN_FIELD_NAMES[name]}, got {value!r}",
                    source=source,
                    field=where,
                )
        result.append(cls(**item))
    return result


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    data = {k: v for k, v in load_defaults().items() if k in _KINDS}
    return _parse_settings(data, "perfbench/data/mining_defaults.json")


def parse_bound(value: str | date | None, name: str, *, end_of_day: bool) -> datetime | None:
    """A ``since``/``until`` setting as an aware time; a bare date is a whole day in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment, whole_day = value, False
    elif isinstance(value, date):
        moment, whole_day = datetime(value.year, value.month, value.day), True
    else:
        text = value.strip()
        try:
            whole_day = len(text) == 10
            moment = (
                datetime.combine(date.fromisoformat(text), datetime.min.time())
                if whole_day
                else datetime.fromisoformat(text)
            )
        except ValueError:
            raise InputError(
                f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time such as "
                "2023-05-01T12:00:00+00:00",
                field=name,
            ) from None
    if whole_day and end_of_day:
        moment += timedelta(days=1, microseconds=-1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
