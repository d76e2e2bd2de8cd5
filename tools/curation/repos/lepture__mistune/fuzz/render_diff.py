"""Differential check of a mistune instance: render varied snippets at base and opt, list differences.

Usage: difftest.py BASE_TREE OPT_TREE [plugins,...]   (trees exported from the mirror; src layout)
"""
import json
import random
import subprocess
import sys

SNIPPETS = [
    "[a [b](/u) c", "[x *em* [y](/z)", "see [note and **bold** text", "[a] [b][c] [d", "[open [inner](/x) close]",
    "[[x](https://example.com)]", "[foo][bar](https://example.com)", "[" * 30 + "x" + "]" * 30, "[" * 12 + "w" + "]" * 12,
    "[x](y \"title\")", "![alt *x*](/i.png)", "![[a](/b)](/c)", "*a_b*c_d*", "**a*b**c*", "a ==b== c", "~~x~~ ~~y~~",
    "~~a~~~~b~~", "==x== ==y", "^^i^^ ~~d~~", ">!sp!< >! no", "x ==y and z ==w", "~~5 min, ~~7 min",
    "- a\n\n\n\n  b\n- c\n", "1. a\n\n\n   b\n", "- a\n" + "\n" * 50 + "  b\n", "> q\n> [r]: /u\n",
    "[r1]: /u1\n[r2]: /u2 \"t\"\n[r3]: </u3>\n\n[r1] [r2] [r3] [r4]\n", "[l]: /x\n\n[l][] [L] [l]\n",
    "`code [x](/y)` [z](/w)", "<http://a.b> http://c.d www.e.f", "a\\[b](/c) \\*d*", "[a](<b c>) [d](e 'f')",
    "Setext\n===\n\npara *em* [l](/u)\n", "| a | b |\n|---|---|\n| [x](/y) | ~~z~~ |\n", "```\n[x](/y)\n```\n",
    "foo[^1]\n\n[^1]: note\n", "[a(b)] [c(d)]", "line  \nbreak [x]", "*a **b** c*", "[[[[x]]]](/u)",
]


def render(tree, plugins, texts):
    code = ("import json,sys,mistune\nmd=mistune.create_markdown(plugins=%r)\n"
            "print(json.dumps([md(t) for t in json.load(sys.stdin)]))" % plugins)
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True,
                         env={"PYTHONPATH": tree + "/src", "PATH": "/usr/bin:/bin"}, timeout=600)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout)


def main():
    base, opt = sys.argv[1], sys.argv[2]
    plugins = [p for p in (sys.argv[3].split(",") if len(sys.argv) > 3 else []) if p]
    rng = random.Random(1)
    texts = list(SNIPPETS)
    pieces = ["[", "]", "(", ")", "*", "_", "~~", "==", "^^", ">!", "!<", "![", "a", " ", "\n", "`", "/u", "\\"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(5, 40))) for _ in range(300)]
    a, b = render(base, plugins, texts), render(opt, plugins, texts)
    diffs = [(t, x, y) for t, x, y in zip(texts, a, b) if x != y]
    print(f"{len(diffs)} of {len(texts)} differ")
    for t, x, y in diffs[:8]:
        print(repr(t), "\n   base:", repr(x), "\n   opt: ", repr(y))


main()
