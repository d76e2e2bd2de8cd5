"""What a commit changed, as Python functions: the targets every workload generator aims at.

The diff's hunks give changed line ranges on both sides; ``ast`` at base and at
opt maps them to function definitions. A function counts when it exists at base
(only code that exists there can be called by a workload that runs on base), so
a change inside a helper added by the commit is attributed to the base function
that encloses it on the opt side. Nested functions are attributed to their
outermost function, which is the one a caller can reach.
"""

from __future__ import annotations

import ast
import logging
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import RepositoryError

log = logging.getLogger(__name__)

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


@dataclass(frozen=True)
class FunctionDef:
    """A function or method definition found by ``ast``; lines are 1-based and inclusive."""

    qualname: str
    name: str
    first_line: int  # first decorator, as ``co_firstlineno`` reports it
    def_line: int
    end_line: int
    kind: str  # function, method, classmethod, staticmethod, property
    signature: str
    body_lines: tuple[int, int] = (0, 0)

    @property
    def public(self) -> bool:
        return all(
            not p.startswith("_") or (p.startswith("__") and p.endswith("__"))
            for p in self.qualname.split(".")
        )


@dataclass
class ChangedFunction:
    """A base function the commit changes, addressable as ``module:qualname``."""

    path: str  # repository-relative path of its file
    module: str  # dotted module name, "" when the file is not importable
    root: str  # the sys.path entry (relative to the tree) it is imported from
    func: FunctionDef
    changed_lines: list[int] = field(default_factory=list)  # base-side lines, for coverage
    via: list[str] = field(
        default_factory=list
    )  # module-level names it uses that the commit changed

    @property
    def target(self) -> str:
        return f"{self.module}:{self.func.qualname}"

    @property
    def api(self) -> str:
        """The dotted name people use: ``pkg.mod.Class.method``."""
        return f"{self.module}.{self.func.qualname}" if self.module else self.func.qualname

    @property
    def callable(self) -> bool:
        """Whether a workload can call it directly (importable, not a property or local)."""
        return (
            bool(self.module)
            and self.func.kind != "property"
            and "<locals>" not in self.func.qualname
        )


@dataclass
class ChangeSet:
    """Everything the generators need to know about a commit's change to Python code."""

    functions: list[ChangedFunction]
    changed_lines: dict[str, list[int]]  # path -> base-side lines changed (module-level included)
    roots: list[str]  # sys.path entries (relative to the tree) of the changed modules
    other_files: list[str] = field(default_factory=list)  # changed source files that are not Python
    notes: list[str] = field(default_factory=list)

    @property
    def callable_functions(self) -> list[ChangedFunction]:
        return [f for f in self.functions if f.callable]

    @property
    def modules(self) -> list[str]:
        return sorted({f.module for f in self.functions if f.module})

    def apis(self) -> list[str]:
        return [f.api for f in self.functions]


# --- diff ---------------------------------------------------------------------------------------


def changed_ranges(diff_text: str) -> tuple[list[int], list[int], list[int]]:
    """Lines changed at base, lines changed at opt, and base lines after which lines were inserted.

    A pure insertion touches no base line; its anchor (the base line it follows)
    lets a caller attribute it to the function it lands in.
    """
    old: list[int] = []
    new: list[int] = []
    anchors: list[int] = []
    for m in _HUNK.finditer(diff_text):
        a, b = int(m.group(1)), int(m.group(2) or 1)
        c, d = int(m.group(3)), int(m.group(4) or 1)
        if b:
            old.extend(range(a, a + b))
        else:
            anchors.append(a)
        new.extend(range(c, c + d))
    return old, new, anchors


def full_diff(git_dir: Path, base: str, opt: str) -> str:
    """The unified diff base..opt, read with ``--git-dir`` (it works on bare and odd layouts alike)."""
    proc = subprocess.run(
        ["git", "--git-dir", str(git_dir), "diff", "--no-color", "--no-ext-diff", base, opt],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RepositoryError(
            f"git diff {base[:7]}..{opt[:7]} failed: "
            f"{proc.stderr.decode(errors='replace').strip()[-200:]}"
        )
    return proc.stdout.decode("utf-8", "replace")


def file_diffs(git_dir: Path, base: str, opt: str, paths: list[str]) -> dict[str, str]:
    """Per file, the ``-U0`` diff from base to opt."""
    if not paths:
        return {}
    proc = subprocess.run(
        [
            "git",
            "--git-dir",
            str(git_dir),
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            base,
            opt,
            "--",
            *paths,
        ],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RepositoryError(
            f"git diff {base[:7]}..{opt[:7]} failed: "
            f"{proc.stderr.decode(errors='replace').strip()[-200:]}"
        )
    out: dict[str, str] = {}
    for section in ("\n" + proc.stdout.decode("utf-8", "replace")).split("\ndiff --git ")[1:]:
        header = section.split("\n", 1)[0]
        path = header[2 : (len(header) - 1) // 2] if header.startswith("a/") else header
        out[path] = section
    return out


# --- ast ----------------------------------------------------------------------------------------


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def index_functions(source: str) -> list[FunctionDef]:
    """Every function definition in a module, with qualnames as Python would give them."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[FunctionDef] = []

    def visit(body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.", True)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorators = _decorator_names(node)
                if not in_class:
                    kind = "function"
                elif (
                    "property" in decorators
                    or "cached_property" in decorators
                    or {"setter", "getter", "deleter"} & decorators
                ):
                    kind = "property"
                elif "classmethod" in decorators:
                    kind = "classmethod"
                elif "staticmethod" in decorators:
                    kind = "staticmethod"
                else:
                    kind = "method"
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                qualname = f"{prefix}{node.name}"
                body_start = node.body[0].lineno if node.body else node.lineno
                found.append(
                    FunctionDef(
                        qualname=qualname,
                        name=node.name,
                        first_line=first,
                        def_line=node.lineno,
                        end_line=node.end_lineno or node.lineno,
                        kind=kind,
                        signature=f"{node.name}({ast.unparse(node.args)})",
                        body_lines=(body_start, node.end_lineno or node.lineno),
                    )
                )
                visit(node.body, f"{qualname}.<locals>.", False)

    visit(tree.body, "", False)
    return found


def module_level_names(source: str, lines: set[int]) -> set[str]:
    """Names bound by module-level (or class-level) statements that touch ``lines``.

    A change to a constant, a table or a regex built at import runs only when the
    module is imported, which no test's tracer sees; the functions that read those
    names are where its effect shows.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.ClassDef):
                visit(node.body)
                continue
            end = node.end_lineno or node.lineno
            if not any(node.lineno <= ln <= end for ln in lines):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)

    visit(tree.body)
    return names


def _users(source: str, names: set[str], funcs: list[FunctionDef]) -> dict[str, list[str]]:
    """Functions (by qualname) whose bodies read one of ``names``, with the names they read."""
    if not names:
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    by_line = {(f.def_line, f.name): f for f in funcs if "<locals>" not in f.qualname}
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        func = by_line.get((node.lineno, node.name))
        if func is None:
            continue
        used = sorted(
            {
                n.id if isinstance(n, ast.Name) else n.attr
                for n in ast.walk(node)
                if (isinstance(n, ast.Name) and n.id in names)
                or (isinstance(n, ast.Attribute) and n.attr in names)
            }
        )
        if used:
            found[func.qualname] = used
    return found


def _outermost(funcs: list[FunctionDef], line: int) -> FunctionDef | None:
    """The outermost callable definition containing ``line`` (its locals belong to it)."""
    containing = [
        f for f in funcs if f.first_line <= line <= f.end_line and "<locals>" not in f.qualname
    ]
    if not containing:
        return None
    # A method sits inside its class, which is no function; the innermost non-local one wins.
    return max(containing, key=lambda f: f.first_line)


# --- modules ------------------------------------------------------------------------------------


def module_of(tree: Path, path: str) -> tuple[str, str]:
    """(dotted module name, sys.path root) of a file in a tree; ("", "") if not importable.

    The root is the parent of the topmost folder that still holds an ``__init__.py``,
    so ``src/pkg/mod.py`` gives ``("pkg.mod", "src")`` and ``pkg/mod.py`` ``("pkg.mod", ".")``.
    """
    p = Path(path)
    if p.suffix != ".py":
        return "", ""
    parts = [p.stem] if p.name != "__init__.py" else []
    folder = p.parent
    while str(folder) not in ("", ".") and (tree / folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if not parts or not all(part.isidentifier() for part in parts):
        return "", ""
    # A lone module (no __init__.py beside it) is importable from its own folder.
    return ".".join(parts), str(folder) if str(folder) not in ("", ".") else "."


def analyze(
    git_dir: Path, base: str, opt: str, base_tree: Path, opt_tree: Path, source_files: list[str]
) -> ChangeSet:
    """Map the commit's changed lines in ``source_files`` to base functions."""
    diffs = file_diffs(git_dir, base, opt, source_files)
    functions: dict[tuple[str, str], ChangedFunction] = {}
    changed_lines: dict[str, list[int]] = {}
    roots: list[str] = []
    other: list[str] = []
    notes: list[str] = []
    for path in source_files:
        if not path.endswith(".py"):
            other.append(path)
            continue
        base_file = base_tree / path
        if not base_file.is_file():
            notes.append(f"{path} is new in this commit; nothing at base to compare")
            continue
        old_lines, new_lines, anchors = changed_ranges(diffs.get(path, ""))
        base_src = base_file.read_text(encoding="utf-8", errors="replace")
        opt_file = opt_tree / path
        opt_src = (
            opt_file.read_text(encoding="utf-8", errors="replace") if opt_file.is_file() else ""
        )
        base_funcs = index_functions(base_src)
        by_name = {f.qualname: f for f in base_funcs}
        module, root = module_of(base_tree, path)
        if module and root not in roots:
            roots.append(root)
        n_base = len(base_src.splitlines())
        changed_lines[path] = sorted({ln for ln in old_lines if 1 <= ln <= n_base})

        def add(
            func: FunctionDef,
            line: int | None,
            path: str = path,
            module: str = module,
            root: str = root,
        ) -> None:
            key = (path, func.qualname)
            if key not in functions:
                functions[key] = ChangedFunction(path, module, root, func)
            if line is not None and func.first_line <= line <= func.end_line:
                functions[key].changed_lines.append(line)

        for line in old_lines:
            func = _outermost(base_funcs, line)
            if func is not None:
                add(func, line)
        for line in anchors:  # an insertion inside a function's body changes that function
            func = _outermost(base_funcs, line)
            if func is not None and func.body_lines[0] <= line < func.end_line:
                add(func, line)
                changed_lines[path].append(line)
        opt_funcs = index_functions(opt_src)
        for line in new_lines:
            func = _outermost(opt_funcs, line)
            if func is not None and func.qualname in by_name:
                add(by_name[func.qualname], None)
            elif func is not None:
                # A helper new in this commit: its callers at opt that exist at base changed too.
                for caller in _callers(opt_src, func.name, opt_funcs):
                    if caller.qualname in by_name:
                        add(by_name[caller.qualname], None)
        # Module-level changes (constants, tables, regexes built at import): the functions
        # that read the changed names are where the change takes effect.
        in_funcs = {ln for ln in old_lines if _outermost(base_funcs, ln) is not None}
        top_lines = set(old_lines) - in_funcs
        top_new = {ln for ln in new_lines if _outermost(opt_funcs, ln) is None}
        names = module_level_names(base_src, top_lines) | module_level_names(opt_src, top_new)
        for qualname, used in _users(base_src, names, base_funcs).items():
            func = by_name[qualname]
            key = (path, qualname)
            if key not in functions:
                add(func, None)
                functions[key].via = used
    for cf in functions.values():
        cf.changed_lines = sorted(set(cf.changed_lines))
    changed_lines = {p: sorted(set(lines)) for p, lines in changed_lines.items()}
    ordered = sorted(functions.values(), key=lambda c: (c.path, c.func.first_line))
    return ChangeSet(ordered, changed_lines, roots or ["."], other, notes)


def _callers(source: str, name: str, funcs: list[FunctionDef]) -> list[FunctionDef]:
    """Functions of ``source`` whose body mentions ``name`` (a call or a reference)."""
    lines = source.splitlines()
    word = re.compile(rf"\b{re.escape(name)}\b")
    out = []
    for f in funcs:
        if f.name == name or "<locals>" in f.qualname:
            continue
        body = "\n".join(lines[f.def_line : f.end_line])
        if word.search(body):
            out.append(f)
    return out


def function_at(tree: Path, path: str, line: int) -> ChangedFunction | None:
    """The function of ``tree/path`` whose code starts at ``line`` (as ``co_firstlineno`` says)."""
    file = tree / path
    if not file.is_file():
        return None
    module, root = module_of(tree, path)
    for func in index_functions(file.read_text(encoding="utf-8", errors="replace")):
        if line in (func.first_line, func.def_line):
            return ChangedFunction(path, module, root, func)
    return None
