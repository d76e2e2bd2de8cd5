import pytest

from minilib.text import slugify, word_freq


def test_word_freq():
    assert word_freq("the cat and the hat") == {"the": 2, "cat": 1, "and": 1, "hat": 1}
    assert word_freq("") == {}


@pytest.mark.parametrize("text", ["a b a", "one two three two one"])
def test_word_freq_counts_sum_to_words(text):
    assert sum(word_freq(text).values()) == len(text.split())


def test_slugify(tmp_path):
    assert slugify("Hello, World!") == "hello-world"
