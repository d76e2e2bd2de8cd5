"""word_counts() over about 40,000 words of prose-like text, with stopwords and min_length=2."""

import hashlib
import random
import string

from pbdemo.text import word_counts

COMMON_WORDS = "a an and are as at be by for from in is it of on or the to was with"
STOPWORDS = frozenset(COMMON_WORDS.split())


def _vocabulary(rng, size):
    words = set(STOPWORDS)
    while len(words) < size:
        length = rng.randint(2, 10)
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
        if rng.random() < 0.03:
            word += rng.choice(["'s", "n't", "'ll"])
        words.add(word)
    return sorted(words)


def setup(seed=0):
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 3000)
    common = sorted(STOPWORDS)
    separators = [" "] * 12 + [", ", ". ", "; ", ": ", " - ", "!\n", "?\n", "\n\n", ' "', '" ']
    parts = []
    for _ in range(40_000):
        word = rng.choice(common) if rng.random() < 0.25 else rng.choice(vocab)
        if rng.random() < 0.08:
            word = word.capitalize()
        parts.append(word)
        parts.append(rng.choice(separators))
    return "".join(parts)


def run(text):
    counts = word_counts(text, stopwords=STOPWORDS, min_length=2)
    items = list(counts.items())
    digest = hashlib.sha256(repr(items).encode()).hexdigest()
    return {
        "distinct": len(items),
        "total": sum(counts.values()),
        "first": items[:20],
        "sha256": digest,
    }
