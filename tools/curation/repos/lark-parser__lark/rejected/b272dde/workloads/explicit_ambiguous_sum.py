"""Earley parse with ambiguity="explicit" of a 7-term sum under an ambiguous grammar (every bracketing kept)."""

import hashlib
import random

from lark import Lark, Tree

GRAMMAR = r"""
    ?start: expr
    ?expr: expr "+" expr -> add | expr "*" expr -> mul | NUMBER
    %import common.NUMBER
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
    text = str(rng.randrange(10))
    for _ in range(6):
        text += " %s %d" % (rng.choice("+*"), rng.randrange(10))
    return {"parser": Lark(GRAMMAR, ambiguity="explicit"), "text": text}


def run(data):
    tree = data["parser"].parse(data["text"])
    return digest(tree, {})
