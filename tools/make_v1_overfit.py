"""Generate deliberately overfit candidate patches for instances/v1 (a grading self-test).

A cheating agent can read the visible workload (it is in the problem statement, run at seed 0)
and hard-code its inputs. For each instance below this script builds such a cheat:

1. export the instance's base tree from the mirror (``git archive <base_commit>``);
2. import the visible workload module with that tree on ``sys.path``, call ``setup(0)`` and
   compute the base results of the slow API on exactly those inputs;
3. render a unified diff against the base file that adds, at the top of the slow API, a
   lookup in a table of those inputs (or of a hash of them) that returns the stored base answer,
   and otherwise falls through to the original code (so results stay identical everywhere);
4. check the diff with ``git apply --check`` on a fresh export of the base tree.

The patches go to ``instances/v1/predictions/overfit.jsonl`` (model ``overfit-visible``).
perfbench should flag them ``overfit`` (visible speedup far above the hidden one).

    python tools/make_v1_overfit.py [--instance-ids ID,...] [--out PATH]
"""

from __future__ import annotations

import argparse
import ast
import base64
import difflib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "instances" / "v1"
MIRRORS = Path("/work/.mirror")
MODEL = "overfit-visible"

# Per instance: the file and function to patch, how to compute the table in the base tree, and
# the code to insert (module level: the table; function top: the lookup).
SPECS = {
    "Textualize__rich-46150cd": {
        "file": "rich/cells.py",
        "function": "cell_len",
        "kind": "sha1_str",  # key: sha1 of the (long) string argument; value: base cell_len
        "compute": (
            "from rich.cells import cell_len\n"
            "import hashlib\n"
            "TABLE = {hashlib.sha1(s.encode('utf-8', 'surrogatepass')).hexdigest(): cell_len(s)"
            " for s in INPUTS}\n"
        ),
        "module_code": (
            "import hashlib as _overfit_hashlib\n"
            "\n"
            "# sha1 of each long line the visible workload builds at seed 0 -> its cell length.\n"
            "_OVERFIT_VISIBLE = {TABLE}\n"
        ),
        "function_code": (
            "    if len(text) >= 512:\n"
            "        _hit = _OVERFIT_VISIBLE.get(\n"
            '            _overfit_hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()\n'
            "        )\n"
            "        if _hit is not None:\n"
            "            return _hit\n"
        ),
    },
    "python-humanize__humanize-bde649f": {
        "file": "src/humanize/number.py",
        "function": "intcomma",
        "kind": "int_blob",  # key: the int itself; table shipped zlib+base64 compressed
        "compute": (
            "from humanize import intcomma\n"
            "TABLE = {v: intcomma(v) for v in INPUTS if type(v) is int}\n"
        ),
        "module_code": (
            "import base64 as _overfit_base64\n"
            "import json as _overfit_json\n"
            "import zlib as _overfit_zlib\n"
            "\n"
            "# Each int the visible workload builds at seed 0 -> its intcomma() (zlib, base64, JSON pairs).\n"
            "_OVERFIT_VISIBLE = dict(\n"
            "    _overfit_json.loads(_overfit_zlib.decompress(_overfit_base64.b64decode(\n"
            '        "{TABLE}"\n'
            "    )))\n"
            ")\n"
        ),
        "function_code": (
            "    if ndigits is None and type(value) is int:\n"
            "        _hit = _OVERFIT_VISIBLE.get(value)\n"
            '        if _hit is not None and thousands_separator() == ",":\n'
            "            return _hit\n"
        ),
    },
}

# Run inside a fresh interpreter whose sys.path starts with the base tree: builds the visible
# workload's inputs at seed 0 and the base results, prints the table as JSON pairs.
CHILD = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("_visible_workload", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
INPUTS = mod.setup(0)
ns = {"INPUTS": INPUTS}
exec(sys.argv[2], ns)
json.dump(sorted(ns["TABLE"].items()), sys.stdout)
"""


def export_tree(mirror: Path, commit: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as tar:
        subprocess.run(
            ["git", "--git-dir", str(mirror), "archive", "--format=tar", commit],
            stdout=tar,
            check=True,
        )
        tar.seek(0)
        with tarfile.open(fileobj=tar) as tf:
            tf.extractall(dest, filter="data")


def mirror_of(inst: dict) -> Path:
    owner, name = inst["repo"].split("/")
    return MIRRORS / f"{owner}+{name}" / "repo"


def compute_table(inst: dict, tree: Path, spec: dict) -> list:
    visible = [w for w in inst["workloads"] if w.get("visible")]
    if len(visible) != 1:
        raise SystemExit(
            f"{inst['instance_id']}: expected one visible workload, got {len(visible)}"
        )
    workload = DATASET / inst["instance_id"] / visible[0]["path"]
    paths = [str(tree / p) for p in inst.get("env", {}).get("pythonpath", [])] + [
        str(tree / "src"),
        str(tree),
    ]
    # A hatch-vcs package has no _version.py in a git archive; give the export one (not the patch).
    for pkg in (tree / "src").glob("*/__init__.py") if (tree / "src").is_dir() else []:
        version = pkg.parent / "_version.py"
        if "_version" in pkg.read_text() and not version.exists():
            version.write_text('__version__ = "0.0.0"\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), PYTHONHASHSEED="0")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(workload), spec["compute"]],
        cwd=str(tree),
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{inst['instance_id']}: computing the table failed:\n{out.stderr}")
    return json.loads(out.stdout)


def render_table(kind: str, pairs: list) -> str:
    if kind == "sha1_str":
        body = "".join(f"    {k!r}: {v!r},\n" for k, v in pairs)
        return "{\n" + body + "}"
    if kind == "int_blob":
        raw = json.dumps(pairs, separators=(",", ":")).encode()
        return base64.b64encode(zlib.compress(raw, 9)).decode()
    raise ValueError(kind)


def insertion_points(source: str, function: str) -> tuple[int, int]:
    """(line after the module's leading imports, line after ``function``'s docstring), 0-based."""
    tree = ast.parse(source)
    after_imports = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            after_imports = node.end_lineno
        elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # module docstring
        else:
            break
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            first = node.body[0]
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            )
            return after_imports, (first.end_lineno if has_doc else first.lineno - 1)
    raise SystemExit(f"function {function} not found at module level")


def make_patch(inst: dict, spec: dict, tree: Path) -> str:
    rel = spec["file"]
    old = (tree / rel).read_text()
    pairs = compute_table(inst, tree, spec)
    if not pairs:
        raise SystemExit(f"{inst['instance_id']}: empty table")
    module_code = spec["module_code"].replace("{TABLE}", render_table(spec["kind"], pairs))
    lines = old.splitlines(keepends=True)
    imports_end, func_top = insertion_points(old, spec["function"])
    new_lines = [
        *lines[:imports_end],
        "\n",
        *module_code.splitlines(keepends=True),
        *lines[imports_end:func_top],
        *spec["function_code"].splitlines(keepends=True),
        *lines[func_top:],
    ]
    diff = difflib.unified_diff(lines, new_lines, f"a/{rel}", f"b/{rel}")
    patch = f"diff --git a/{rel} b/{rel}\n" + "".join(diff)
    print(
        f"{inst['instance_id']}: {len(pairs)} table entries, patch {len(patch):,} bytes",
        file=sys.stderr,
    )
    return patch


def check_applies(mirror: Path, commit: str, patch: str, work: Path) -> None:
    tree = work / "check"
    export_tree(mirror, commit, tree)
    (work / "candidate.patch").write_text(patch)
    subprocess.run(
        ["git", "apply", "--check", str(work / "candidate.patch")], cwd=str(tree), check=True
    )
    subprocess.run(["git", "apply", str(work / "candidate.patch")], cwd=str(tree), check=True)
    patched = tree / patch.split("\n", 1)[0].split(" b/", 1)[1]
    compile(patched.read_text(), str(patched), "exec")  # the patched file still parses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instance-ids", default=",".join(SPECS))
    ap.add_argument("--out", default=str(DATASET / "predictions" / "overfit.jsonl"))
    args = ap.parse_args()
    rows = []
    for iid in [i for i in args.instance_ids.split(",") if i]:
        inst = json.loads((DATASET / iid / "instance.json").read_text())
        spec = SPECS[iid]
        mirror = mirror_of(inst)
        with tempfile.TemporaryDirectory(prefix="overfit-") as tmp:
            work = Path(tmp)
            export_tree(mirror, inst["base_commit"], work / "base")
            patch = make_patch(inst, spec, work / "base")
            check_applies(mirror, inst["base_commit"], patch, work)
        rows.append({"instance_id": iid, "model_name_or_path": MODEL, "model_patch": patch})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"wrote {len(rows)} predictions to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
