"""Text helpers."""


def word_freq(text):
    """How often each whitespace-separated word occurs, in first-seen order."""
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts


def slugify(title):
    """A lower-case, dash-separated form of ``title`` for URLs."""
    kept = "".join(c if c.isalnum() else " " for c in title.lower())
    return "-".join(kept.split())
