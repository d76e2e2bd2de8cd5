"""Earley parse with ambiguity="explicit" of nested if/else statements (dangling else: every reading kept)."""

import hashlib
import random

from lark import Lark, Tree

GRAMMAR = r"""
    start: stmt+
    ?stmt: "if" COND stmt -> if_ | "if" COND stmt "else" stmt -> if_else | ACTION ";"
    COND: /c[0-9]+/
    ACTION: /a[0-9]+/
    %import common.WS
    %ignore WS
"""


def digest(node, memo):
    """A structural hash of the tree, independent of how subtrees are shared in memory and of the order of _ambig alternatives."""
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, Tree):
        parts = [digest(c, memo) for c in node.children]
        if node.data == "_ambig":  # the order of the alternatives is not specified
            parts.sort()
        h = hashlib.sha1(("(" + node.data + " " + " ".join(parts) + ")").encode()).hexdigest()
    else:
        h = str(node)
    memo[key] = h
    return h


def setup(seed=0):
    rng = random.Random(seed)
    progs = []
    for _ in range(3):
        depth = 5
        text = " ".join("if c%d" % rng.randrange(9) for _ in range(depth)) + " a%d ;" % rng.randrange(9)
        text += "".join(" else a%d ;" % rng.randrange(9) for _ in range(rng.randint(3, 4)))
        progs.append(text)
    return {"parser": Lark(GRAMMAR, ambiguity="explicit"), "progs": progs}


def run(data):
    return [digest(data["parser"].parse(p), {}) for p in data["progs"]]
