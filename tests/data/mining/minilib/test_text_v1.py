from minilib.text import word_freq


def test_word_freq():
    assert word_freq("the cat and the hat") == {"the": 2, "cat": 1, "and": 1, "hat": 1}
    assert word_freq("") == {}
