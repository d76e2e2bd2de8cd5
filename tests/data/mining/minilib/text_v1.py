"""Text helpers."""


def word_freq(text):
    """How often each whitespace-separated word occurs, in first-seen order."""
    words = text.split()
    return {word: words.count(word) for word in words}
