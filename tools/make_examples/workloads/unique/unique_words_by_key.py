"""unique(key=str.lower) over words in mixed case: 5000 words, about 1200 distinct ignoring case."""

import hashlib
import random
import string

from pbdemo.seqs import unique


def _variant(rng, word):
    r = rng.random()
    if r < 0.6:
        return word
    if r < 0.8:
        return word.capitalize()
    if r < 0.9:
        return word.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


def setup(seed=0):
    rng = random.Random(seed)
    vocab = set()
    while len(vocab) < 1200:
        length = rng.randint(3, 10)
        vocab.add("".join(rng.choice(string.ascii_lowercase) for _ in range(length)))
    vocab = sorted(vocab)
    return [_variant(rng, rng.choice(vocab)) for _ in range(5000)]


def run(data):
    result = unique(data, key=str.lower)
    digest = hashlib.sha256("\n".join(result).encode()).hexdigest()
    return {"count": len(result), "head": result[:20], "sha256": digest}
