"""Earley parse with ambiguity="explicit" of English sentences with stacked prepositional phrases (all attachments kept)."""

import hashlib
import random

from lark import Lark, Tree

GRAMMAR = r"""
    start: s
    s: np vp
    np: DET N | np pp | NAME
    vp: V np | vp pp
    pp: P np
    DET: "the" | "a"
    N: "man" | "telescope" | "park" | "dog" | "hill" | "garden" | "bench"
    NAME: "I" | "she"
    V: "saw" | "watched"
    P: "with" | "in" | "on" | "near"
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
    sentences = []
    for _ in range(2):
        words = [rng.choice(["I", "she"]), rng.choice(["saw", "watched"]), "the", rng.choice(["man", "dog"])]
        for _ in range(4):
            words += [rng.choice(["with", "in", "on", "near"]), rng.choice(["the", "a"]),
                      rng.choice(["telescope", "park", "hill", "garden", "bench"])]
        sentences.append(" ".join(words))
    return {"parser": Lark(GRAMMAR, ambiguity="explicit"), "sentences": sentences}


def run(data):
    return [digest(data["parser"].parse(s), {}) for s in data["sentences"]]
