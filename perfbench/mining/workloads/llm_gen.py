"""``llm``: a chat model writes workloads from the commit message, diff and changed API (GSO style).

The reply is not trusted: each fenced code block must compile and define
``setup`` and ``run`` at module level before it is even tried, and then it goes
through the same trial runs (base twice, opt once, results compared) as every
other generator's output.
"""

from __future__ import annotations

import ast
import io
import logging
import re
import tokenize

from ...llm import LLMClient
from .base import Drop, GeneratedWorkload, GenerationContext, GeneratorResult, register, safe_name

log = logging.getLogger(__name__)

MAX_DIFF_CHARS = 12_000
MAX_FUNCTION_CHARS = 3_000
_BLOCK = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)

SYSTEM = """You write performance workloads for Python libraries.
A workload is one self-contained Python file that defines:
  def setup(seed=0): builds the inputs deterministically from seed (use random.Random(seed)); \
not timed; returns them.
  def run(data): the timed call. It calls the library on data and returns a small deterministic \
value that can be compared between versions (numbers, strings, lists, tuples, dicts; never \
objects whose repr holds a memory address, never timings).
Use only the standard library and the library itself. Size the inputs so that one run() takes \
10 to 200 milliseconds on the old code. Do not time anything yourself and do not print.
Reply with each workload in its own ```python fenced block and nothing else."""


def build_prompt(ctx: GenerationContext, n: int) -> list[dict[str, str]]:
    changes = ctx.changes
    roots = ", ".join(ctx.pythonpath)
    api_lines = []
    sources = []
    for cf in changes.functions:
        api_lines.append(f"- {cf.api}: def {cf.func.signature}  ({cf.path}, {cf.func.kind})")
        lines = (ctx.base_tree / cf.path).read_text(encoding="utf-8", errors="replace").splitlines()
        text = "\n".join(lines[cf.func.first_line - 1 : cf.func.end_line])[:MAX_FUNCTION_CHARS]
        sources.append(f"# {cf.path}, old version\n{text}")
    diff = ctx.diff_text
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + "\n... (diff truncated)"
    user = f"""Repository: {ctx.repo_name} (Python; import roots in the tree: {roots}).

The commit below made this code faster. Changed functions (names at the old version):
{chr(10).join(api_lines) or "- (module-level code only)"}

Old code of the changed functions:
```python
{chr(10).join(sources)[: 4 * MAX_FUNCTION_CHARS]}
```

Commit message:
{ctx.message.strip()[:2000]}

Diff:
```diff
{diff}
```

Write {n} different workload{"s" if n != 1 else ""} whose run() spends most of its time in the \
changed code, with inputs large enough that the old version is clearly slower than the new one. \
Use different input shapes or sizes in each. Import the library by its module names \
({", ".join(changes.modules) or "see the paths above"})."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def extract_blocks(reply: str) -> list[str]:
    """Fenced code blocks of a reply; the whole reply when it is bare Python."""
    blocks = [b.strip() + "\n" for b in _BLOCK.findall(reply) if b.strip()]
    if not blocks and "def run" in reply:
        blocks = [reply.strip() + "\n"]
    return blocks


def check_source(source: str) -> str | None:
    """Why ``source`` is not a usable workload file, or None."""
    try:
        tree = ast.parse(source)
        compile(source, "<llm workload>", "exec")
    except SyntaxError as exc:
        return f"does not compile: {exc.msg} (line {exc.lineno})"
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = [name for name in ("setup", "run") if name not in defs]
    if missing:
        return f"defines no {' and no '.join(missing)}() at module level"
    if isinstance(defs["run"], ast.AsyncFunctionDef) or isinstance(
        defs["setup"], ast.AsyncFunctionDef
    ):
        return "setup() and run() must be plain functions, not coroutines"
    setup_args = defs["setup"].args
    if len(setup_args.args) + len(setup_args.kwonlyargs) == 0 and not setup_args.vararg:
        return "setup() takes no seed argument"
    run_args = defs["run"].args
    if len(run_args.args) < 1 and not run_args.vararg:
        return "run() takes no data argument"
    return None


def sanitize(source: str) -> str:
    """The code without comments and module docstring: a model's notes may describe the solution."""
    lines: list[str | None] = list(source.splitlines())
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                row, col = tok.start
                kept = (lines[row - 1] or "")[:col]
                lines[row - 1] = kept if kept.strip() else None  # a comment-only line goes
        tree = ast.parse(source)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return source
    doc = (
        tree.body[0]
        if tree.body
        and isinstance(tree.body[0], ast.Expr)
        and isinstance(getattr(tree.body[0], "value", None), ast.Constant)
        and isinstance(tree.body[0].value.value, str)
        else None
    )
    if doc is not None:
        lines[doc.lineno - 1 : doc.end_lineno] = [None] * (doc.end_lineno - doc.lineno + 1)
    text = "\n".join(line.rstrip() for line in lines if line is not None).strip("\n") + "\n"
    return re.sub(r"\n{3,}", "\n\n\n", text)


def _describe(source: str, fallback: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(source))
    except SyntaxError:
        doc = None
    return doc.strip().splitlines()[0][:160] if doc else fallback


@register
class LLMGenerator:
    name = "llm"

    def generate(self, ctx: GenerationContext) -> GeneratorResult:
        out = GeneratorResult()
        settings = ctx.config.llm
        if settings is None:
            out.drops.append(Drop(self.name, "endpoint", "no LLM endpoint configured"))
            return out
        n = max(1, min(ctx.config.llm_workloads, ctx.config.max_workloads))
        reply = LLMClient(settings).chat(build_prompt(ctx, n))
        blocks = extract_blocks(reply)
        if not blocks:
            out.drops.append(
                Drop(
                    self.name,
                    settings.model,
                    f"reply holds no Python code block ({len(reply)} characters)",
                )
            )
            return out
        head = ctx.changes.functions[0].func.name if ctx.changes.functions else "change"
        apis = ctx.changes.apis()
        for k, source in enumerate(blocks[: ctx.config.max_workloads], start=1):
            label = f"block {k} of {len(blocks)}"
            problem = check_source(source)
            if problem:
                out.drops.append(Drop(self.name, label, problem))
                continue
            description = _describe(source, f"a workload written by {settings.model}")
            source = sanitize(source)
            reason, figures = ctx.runner.screen(source)
            if reason:
                out.drops.append(Drop(self.name, label, reason))
                continue
            mentioned = [a for a in apis if a.rsplit(".", 1)[-1] in source] or apis
            out.workloads.append(
                GeneratedWorkload(
                    name=safe_name(f"llm_{head}_{k}"),
                    source=source,
                    generator=self.name,
                    description=description,
                    apis=mentioned,
                    details={"model": settings.model, "block": k, **figures},
                )
            )
        return out
