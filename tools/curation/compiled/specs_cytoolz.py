"""Spec of the cytoolz instance (our statement and workload list); run to (re)write specs/*.json."""

from common import write

GUARDS = [
    "cytoolz/tests/test_itertoolz.py::test_remove",
    "cytoolz/tests/test_itertoolz.py::test_groupby",
    "cytoolz/tests/test_itertoolz.py::test_groupby_non_callable",
    "cytoolz/tests/test_itertoolz.py::test_merge_sorted",
    "cytoolz/tests/test_itertoolz.py::test_interleave",
    "cytoolz/tests/test_itertoolz.py::test_unique",
    "cytoolz/tests/test_itertoolz.py::test_isiterable",
    "cytoolz/tests/test_itertoolz.py::test_isdistinct",
    "cytoolz/tests/test_itertoolz.py::test_nth",
    "cytoolz/tests/test_itertoolz.py::test_first",
    "cytoolz/tests/test_itertoolz.py::test_second",
    "cytoolz/tests/test_itertoolz.py::test_last",
    "cytoolz/tests/test_itertoolz.py::test_rest",
    "cytoolz/tests/test_itertoolz.py::test_take",
    "cytoolz/tests/test_itertoolz.py::test_tail",
    "cytoolz/tests/test_itertoolz.py::test_drop",
    "cytoolz/tests/test_itertoolz.py::test_take_nth",
    "cytoolz/tests/test_itertoolz.py::test_get",
    "cytoolz/tests/test_itertoolz.py::test_mapcat",
    "cytoolz/tests/test_itertoolz.py::test_cons",
    "cytoolz/tests/test_itertoolz.py::test_concat",
    "cytoolz/tests/test_itertoolz.py::test_concatv",
    "cytoolz/tests/test_itertoolz.py::test_interpose",
    "cytoolz/tests/test_itertoolz.py::test_frequencies",
    "cytoolz/tests/test_itertoolz.py::test_reduceby",
    "cytoolz/tests/test_itertoolz.py::test_reduce_by_init",
    "cytoolz/tests/test_itertoolz.py::test_reduce_by_callable_default",
    "cytoolz/tests/test_itertoolz.py::test_iterate",
    "cytoolz/tests/test_itertoolz.py::test_accumulate",
    "cytoolz/tests/test_itertoolz.py::test_accumulate_works_on_consumable_iterables",
    "cytoolz/tests/test_itertoolz.py::test_sliding_window",
    "cytoolz/tests/test_itertoolz.py::test_sliding_window_of_short_iterator",
    "cytoolz/tests/test_itertoolz.py::test_partition",
    "cytoolz/tests/test_itertoolz.py::test_partition_all",
    "cytoolz/tests/test_itertoolz.py::test_count",
    "cytoolz/tests/test_itertoolz.py::test_pluck",
    "cytoolz/tests/test_itertoolz.py::test_join",
    "cytoolz/tests/test_itertoolz.py::test_getter",
    "cytoolz/tests/test_itertoolz.py::test_key_as_getter",
    "cytoolz/tests/test_itertoolz.py::test_join_double_repeats",
    "cytoolz/tests/test_itertoolz.py::test_join_missing_element",
    "cytoolz/tests/test_itertoolz.py::test_left_outer_join",
    "cytoolz/tests/test_itertoolz.py::test_right_outer_join",
    "cytoolz/tests/test_itertoolz.py::test_outer_join",
    "cytoolz/tests/test_itertoolz.py::test_diff",
    "cytoolz/tests/test_itertoolz.py::test_topk",
    "cytoolz/tests/test_itertoolz.py::test_topk_is_stable",
    "cytoolz/tests/test_itertoolz.py::test_peek",
]

write(
    "pytoolz__cytoolz-52711fe",
    "pytoolz/cytoolz",
    "52711fe",
    "cytoolz.merge_sorted",
    "algorithmic",
    "`cytoolz.merge_sorted(*seqs, key=None)` (merging already sorted iterables lazily) is slower "
    "than it needs to be: code that merges a handful of sorted streams of a few thousand items "
    "each (sorted logs, sorted runs of numbers or words) spends much of its time in it.\n\n"
    "Make `cytoolz.merge_sorted` faster. The modules under `cytoolz/` are Cython and are compiled by "
    "the install step; they must stay compiled and in use. The merged order (including the order of "
    "equal items, which comes from the order of the input sequences), laziness on infinite or long "
    "inputs, and the results of every other public API must stay the same, and the tests under "
    "`cytoolz/tests/` must keep passing.",
    [
        {
            "name": "merge_sorted_streams",
            "visible": True,
            "description": "merge of 2-4 sorted int streams of 5k-15k items",
        },
        {
            "name": "merge_sorted_records",
            "description": "merge of 3 sorted lists of (time, host) tuples",
        },
        {
            "name": "merge_sorted_words",
            "description": "first 5,000 items of a merge of 4 sorted word lists",
        },
    ],
    GUARDS,
    language="Cython",
)
