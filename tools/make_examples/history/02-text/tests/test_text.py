from pbdemo.text import tokenize, top_words, word_counts


def test_tokenize_splits_on_punctuation_and_lowercases():
    assert tokenize("Hello, World! It's 2024...") == ["hello", "world", "it's", "2024"]
    assert tokenize("") == []
    assert tokenize("  --  ") == []
    assert tokenize("tail") == ["tail"]


def test_tokenize_non_ascii_letters_separate_words():
    assert tokenize("café au lait") == ["caf", "au", "lait"]
    assert tokenize("ΣΟΦΙΑ and KELVIN \u212a") == ["and", "kelvin"]
    assert tokenize("snake_case x-ray") == ["snake", "case", "x", "ray"]


def test_word_counts_order_and_apostrophes():
    text = "The cat and the hat. 'Tis the cat's hat, isn't it? ''"
    assert word_counts(text) == {
        "the": 3,
        "cat": 1,
        "and": 1,
        "hat": 2,
        "tis": 1,
        "cat's": 1,
        "isn't": 1,
        "it": 1,
    }
    assert list(word_counts("b a b c a")) == ["b", "a", "c"]


def test_word_counts_stopwords_and_min_length():
    text = "A quick brown fox jumps over a lazy dog; a fox!"
    counts = word_counts(text, stopwords={"a", "over"}, min_length=3)
    assert counts == {"quick": 1, "brown": 1, "fox": 2, "jumps": 1, "lazy": 1, "dog": 1}


def test_top_words_ties_alphabetical():
    assert top_words("b a c b a d", n=3) == [("a", 2), ("b", 2), ("c", 1)]
    assert top_words("x y x", n=10, stopwords={"x"}) == [("y", 1)]
