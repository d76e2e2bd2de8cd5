"""Splitting text into words and counting them."""

import string

# Characters that make up words; anything else separates them.
WORD_CHARS = frozenset(string.ascii_letters + string.digits + "'")


def tokenize(text):
    """Split *text* into lower-case words.

    A word is a run of ASCII letters, ASCII digits and apostrophes; every
    other character (spaces, punctuation, non-ASCII letters) separates words.
    """
    words = []
    current = []
    for ch in text:
        if ch in WORD_CHARS:
            current.append(ch.lower())
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def word_counts(text, stopwords=(), min_length=1):
    """Count the words of *text*: ``{word: count}`` in order of first appearance.

    Apostrophes at either end of a word are dropped (``'tis`` counts as
    ``tis``). Words shorter than *min_length* and words in *stopwords* (given
    in lower case) are not counted.
    """
    counts = {}
    for word in tokenize(text):
        word = word.strip("'")
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
