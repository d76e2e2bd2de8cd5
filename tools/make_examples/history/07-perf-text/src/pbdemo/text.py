"""Splitting text into words and counting them."""

import re
import string

# Characters that make up words; anything else separates them.
WORD_CHARS = frozenset(string.ascii_letters + string.digits + "'")
_WORD_RE = re.compile(r"[A-Za-z0-9']+")


def tokenize(text):
    """Split *text* into lower-case words.

    A word is a run of ASCII letters, ASCII digits and apostrophes; every
    other character (spaces, punctuation, non-ASCII letters) separates words.
    """
    return [word.lower() for word in _WORD_RE.findall(text)]


def word_counts(text, stopwords=(), min_length=1):
    """Count the words of *text*: ``{word: count}`` in order of first appearance.

    Apostrophes at either end of a word are dropped (``'tis`` counts as
    ``tis``). Words shorter than *min_length* and words in *stopwords* (given
    in lower case) are not counted.
    """
    counts = {}
    for word in _WORD_RE.findall(text):
        word = word.lower().strip("'")
        if len(word) < min_length or word in stopwords:
            continue
        counts[word] = counts.get(word, 0) + 1
    return counts


def top_words(text, n=10, stopwords=()):
    """The *n* most frequent words of *text* as ``(word, count)`` pairs.

    Ties are broken alphabetically.
    """
    counts = word_counts(text, stopwords)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:n]
