from minilib.seqs import chunks, dedupe


def test_dedupe_keeps_first_seen_order():
    assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]
    assert dedupe([]) == []


def test_dedupe_strings():
    assert "".join(dedupe("abracadabra")) == "abrcd"


def test_chunks():
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunks([], 3) == []
