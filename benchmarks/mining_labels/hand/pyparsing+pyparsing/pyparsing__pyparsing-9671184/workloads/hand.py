"""Parse a long whitespace-separated list of fields whose every match is kept under one list-all-matches name."""

import random

from pyparsing import Regex

GRAMMAR = Regex(r"[^\s,]+")("field*")[1, ...]


def setup(seed=0):
    rng = random.Random(seed)
    toks = []
    for _ in range(2500):
        if rng.random() < 0.5:
            toks.append("".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 6))))
        else:
            toks.append(str(rng.randrange(10000)))
    return " ".join(toks)


def run(text):
    res = GRAMMAR.parse_string(text, parse_all=True)
    fields = list(res["field"])
    return len(res), fields[:50], fields[-50:]
