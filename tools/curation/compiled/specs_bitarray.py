"""Specs of the bitarray instances (our statements and workload lists); run to (re)write specs/*.json."""

from common import write

REPO = "ilanschnell/bitarray"
T = "bitarray/test_bitarray.py::"
U = "bitarray/test_util.py::"
KEEP = (
    "The extension `bitarray._bitarray` is compiled by the install step and must stay in use. "
    "Results of every public API of the package must stay the same for every argument (both "
    "endiannesses, any length, including lengths that are not a multiple of 8), and the tests "
    "under `bitarray/` must keep passing."
)


def inst(iid, opt, api, kind, problem, workloads, guards):
    write(iid, REPO, opt, api, kind, problem + "\n\n" + KEEP, workloads, guards)


inst(
    "ilanschnell__bitarray-c8ee7ea",
    "c8ee7eab",
    "bitarray.index / any / all / search of one bit",
    "algorithmic",
    "Looking for the next 1 (or 0) bit in a large `bitarray` is slow when the bit is far away: "
    "`a.index(1, start)`, `a.index(0, start, stop)`, `a.any()`, `a.all()` and a search for a "
    "one-bit pattern over millions of bits take much longer than the size of the data suggests, "
    "which hurts code that walks a sparse bitmap (allocation maps, free lists, Bloom filters).\n\n"
    "Make locating a bit in a bitarray faster.",
    [
        {
            "name": "index_sparse_flags",
            "visible": True,
            "description": "index(1, i) walk over 40 set bits of 3M bits",
        },
        {"name": "any_all_blocks", "description": "any()/all() on 60 arrays of 500k-700k bits"},
        {
            "name": "index_zero_ranges",
            "description": "index(0, start, stop) on a mostly-set 2M-bit array, one-bit search",
        },
    ],
    [
        T + "IndexTests",
        T + "SearchTests",
        T + "MethodTests",
        T + "SpecialMethodTests",
        U + "TestsRIndex",
    ],
)

inst(
    "ilanschnell__bitarray-5fff52a",
    "5fff52ad",
    "bitarray &, |, ^ (and in place)",
    "vectorization",
    "The bitwise operators of `bitarray` (`a & b`, `a | b`, `a ^ b` and the in-place `&=`, `|=`, "
    "`^=`) are slower than they need to be on long arrays: combining masks of a few hundred "
    "thousand bits, as a bitmap index or a sieve does, spends most of its time in these operators.\n\n"
    "Make the bitwise operators faster.",
    [
        {
            "name": "mask_and_or_xor",
            "visible": True,
            "description": "&, |, ^ of 30 pairs of 250k-bit masks",
        },
        {
            "name": "bitmap_index_query",
            "description": "in-place |=, &=, ^= over 40 bitmaps of 400k bits",
        },
        {"name": "invert_xor_many", "description": "^ and & of 2,000 arrays of 4k-20k bits"},
    ],
    [
        T + "NumberTests",
        T + "SpecialMethodTests",
        T + "TestsFrozenbitarray",
        U + "TestsBitwiseCount",
    ],
)

inst(
    "ilanschnell__bitarray-d894658",
    "d8946588",
    "bitarray * n, n * bitarray, bitarray *= n",
    "algorithmic",
    "Repeating a `bitarray` (`a * n`, `n * a`, `a *= n`) is slow for a short pattern repeated many "
    "times: building a periodic signal of a few hundred thousand bits from a pattern of a few dozen "
    "bits takes far longer than writing that many bits should.\n\n"
    "Make repetition of bitarrays faster.",
    [
        {
            "name": "repeat_patterns",
            "visible": True,
            "description": "p * n for 40 patterns of 5-120 bits, n 2k-8k",
        },
        {"name": "inplace_repeat", "description": "a *= n for 60 patterns of 1-64 bits, n 3k-12k"},
        {
            "name": "tile_bytes_pattern",
            "description": "n * p for 30 byte-aligned patterns, n 5k-20k",
        },
    ],
    [
        T + "SequenceMethodsTests",
        T + "NumberTests",
        T + "SpecialMethodTests",
        T + "TestsFrozenbitarray",
    ],
)

inst(
    "ilanschnell__bitarray-0582ad8",
    "0582ad8d",
    "del a[i:j], a[i:i] = b, pop(i), insert(i, v)",
    "algorithmic",
    "Deleting or inserting a few bits in the middle of a long `bitarray` is slow: `del a[i:j]`, "
    "`a[i:i] = field`, `a.pop(i)` and `a.insert(i, bit)` on arrays of about a hundred thousand "
    "bits cost far more than moving that many bytes should, so editing a packed bit stream in "
    "place takes a long time.\n\n"
    "Make these edits faster.",
    [
        {
            "name": "delete_slices",
            "visible": True,
            "description": "150 short del a[i:j] in a 120k-bit array",
        },
        {"name": "insert_fields", "description": "150 a[i:i] = field in a 100k-bit array"},
        {"name": "pop_insert_bits", "description": "200 pop(i) + insert(j, v) in a 100k-bit array"},
    ],
    [T + "SliceTests", T + "SequenceMethodsTests", T + "MethodTests", T + "ExtendTests"],
)

inst(
    "ilanschnell__bitarray-773d4ac",
    "773d4acc",
    "bitarray.util.ba2base(16, a)",
    "algorithmic",
    "`bitarray.util.ba2base(16, a)` (hexadecimal text of a bitarray) is several times slower than "
    "it should be: printing or storing fingerprints and masks of a few thousand bits in base 16 "
    "spends most of its time in this call, for big- and little-endian arrays alike.\n\n"
    "Make `ba2base` with base 16 faster. Its output for every base (2, 4, 8, 16, 32, 64) and the "
    "errors it raises must stay the same.",
    [
        {
            "name": "hex_digest_rows",
            "visible": True,
            "description": "ba2base(16) of 200 arrays of 4k-40k bits",
        },
        {
            "name": "hex_one_big",
            "description": "ba2base(16) of 3 little-endian arrays of 1M-3M bits",
        },
        {"name": "hex_short_keys", "description": "ba2base(16) of 3,000 keys of 64-512 bits"},
    ],
    [U + "TestsHexlify", U + "TestsBase", U + "MixedTests"],
)

inst(
    "ilanschnell__bitarray-04a08ed",
    "04a08edc",
    "bitarray ==, !=, <, <=, >, >= across endianness",
    "algorithmic",
    "Comparing two bitarrays of different endianness (`a == b`, `a != b`, `a < b` and the other "
    "rich comparisons, with `a` little-endian and `b` big-endian) is many times slower than "
    "comparing two arrays of the same endianness, although the result only depends on the bits. "
    "Code that checks data read from a file against data received in the other bit order suffers.\n\n"
    "Make comparisons between bitarrays of different endianness faster.",
    [
        {
            "name": "equal_mixed_endian",
            "visible": True,
            "description": "== and != of 200 opposite-endian pairs",
        },
        {
            "name": "sort_mixed_endian",
            "description": "<, <=, > of 300 opposite-endian pairs with long common prefixes",
        },
        {
            "name": "dedupe_frames",
            "description": "matching 150 big-endian frames against 20 little-endian ones",
        },
    ],
    [T + "RichCompareTests", T + "SpecialMethodTests", T + "TestsFrozenbitarray"],
)

inst(
    "ilanschnell__bitarray-7ef9422",
    "7ef9422c",
    "bitarray.find / index / util.rindex with right=True",
    "algorithmic",
    "Searching a bitarray for a single bit from the right (`a.find(1, right=True)`, "
    "`a.index(0, right=True)`, `bitarray.util.rindex(a, 1)`) is far slower than the same search "
    "from the left: finding the last set bit of a sparse bitmap of a few hundred thousand bits "
    "takes up to a millisecond per call when the bit is near the front.\n\n"
    "Make right-to-left search for one bit faster.",
    [
        {
            "name": "find_last_set",
            "visible": True,
            "description": "find(1, right=True) on 80 sparse arrays of 300k-600k bits",
        },
        {
            "name": "index_last_zero",
            "description": "index(0, right=True) and find(0, s, e, right=True) on mostly-set arrays",
        },
        {
            "name": "rindex_util",
            "description": "util.rindex(a, 1) and find(1, 100, right=True) on sparse arrays",
        },
    ],
    [T + "IndexTests", T + "SearchTests", T + "MethodTests", U + "TestsRIndex"],
)

inst(
    "ilanschnell__bitarray-29330ba",
    "29330ba4",
    "del a[sequence of indices]",
    "algorithmic",
    "Deleting items of a bitarray given as a list or tuple of indices (`del a[[3, 17, 40]]`) takes "
    "time proportional to the whole array even when all indices are near its front, so removing "
    "a few hundred entries from the head of a long bit queue is slow.\n\n"
    "Make deleting by a sequence of indices faster. Negative indices, duplicates, unsorted "
    "indices and the errors for out-of-range indices must keep behaving as they do.",
    [
        {
            "name": "drop_head_indices",
            "visible": True,
            "description": "del a[idx], 200 indices in the first 2k of 400k bits",
        },
        {
            "name": "drop_sorted_early",
            "description": "del a[sorted idx] in the first 5% of 200k bits",
        },
        {
            "name": "drop_tuple_negative",
            "description": "del a[tuple] with negative indices, 300k-bit arrays",
        },
    ],
    [T + "SequenceTests", T + "SliceTests", T + "SequenceMethodsTests", T + "MethodTests"],
)

inst(
    "ilanschnell__bitarray-63eef06",
    "63eef06a",
    "bitarray.util.hex2ba",
    "algorithmic",
    "`bitarray.util.hex2ba(s, endian)` (a bitarray from hexadecimal text) is slow: loading masks "
    "and dumps of a few thousand hex digits spends most of its time converting digits, for both "
    "endiannesses and for upper- and lower-case digits.\n\n"
    "Make `hex2ba` faster. Its results and the errors it raises for bad input must stay the same.",
    [
        {
            "name": "parse_hex_dumps",
            "visible": True,
            "description": "hex2ba of 150 strings of 1k-10k digits",
        },
        {
            "name": "parse_hex_little",
            "description": "hex2ba(s, 'little') of 40 mixed-case strings of 20k-60k digits",
        },
        {"name": "parse_hex_ids", "description": "hex2ba of 5,000 ids of 32-128 digits"},
    ],
    [U + "TestsHexlify", U + "TestsMakeEndian", U + "TestsSerialization"],
)

inst(
    "ilanschnell__bitarray-22a7496",
    "22a7496b",
    "bitarray << k, >> k, <<=, >>= (big-endian)",
    "vectorization",
    "Shifting a big-endian `bitarray` by a few bits (`a << k`, `a >> k`, `a <<= k`, `a >>= k` with "
    "`k` not a multiple of 8) is slower than it needs to be on arrays of a few hundred thousand "
    "bits, which hurts code that aligns fields of big-endian wire formats.\n\n"
    "Make shifts of big-endian bitarrays faster.",
    [
        {
            "name": "shift_big_endian",
            "visible": True,
            "description": "a << k and a >> k of 40 big-endian arrays",
        },
        {"name": "shift_inplace_stream", "description": "40 x (>>= k, <<= k) on a 500k-bit buffer"},
        {
            "name": "shift_small_packets",
            "description": "a >> k of 1,500 packets of 2,000-12,000 bits",
        },
    ],
    [T + "NumberTests", T + "SpecialMethodTests", T + "TestsFrozenbitarray"],
)

inst(
    "ilanschnell__bitarray-17fb659",
    "17fb659b",
    "bitarray ~a and invert()",
    "vectorization",
    "Complementing a `bitarray` (`~a`, `a.invert()`) is slower than it should be on long arrays: "
    "taking the complement of masks of a few hundred thousand bits costs more than such a simple "
    "operation should.\n\n"
    "Make `~a` and `a.invert()` faster.",
    [
        {
            "name": "invert_masks",
            "visible": True,
            "description": "~a of 60 masks of 200k-500k bits",
        },
        {"name": "invert_inplace", "description": "51 x a.invert() on 1M bits"},
        {"name": "invert_many_small", "description": "~a of 5,000 arrays of 500-4,000 bits"},
    ],
    [T + "NumberTests", T + "MethodTests", T + "SpecialMethodTests", T + "TestsFrozenbitarray"],
)

inst(
    "ilanschnell__bitarray-af016c4",
    "af016c44",
    "bitarray slice assignment of a bool with a step (a[s:e:k] = v)",
    "algorithmic",
    "Assigning a single bit value to an extended slice of a `bitarray` (`a[i*i::i] = 0` in a sieve, "
    "`a[1::2] = 0` to clear every other bit, negative steps too) is slower than it needs to be: "
    "each selected bit costs far more than setting one bit should.\n\n"
    "Make assignment of 0/1 (or False/True) to a slice with a step other than 1 faster.",
    [
        {
            "name": "sieve_marks",
            "visible": True,
            "description": "sieve of Eratosthenes over 1.5M-2M bits",
        },
        {"name": "interleave_fill", "description": "40 x a[off::k] = v, k in 2..7, on 2M bits"},
        {
            "name": "reverse_step_fill",
            "description": "60 negative/odd-step slice fills on 400k bits",
        },
    ],
    [T + "SliceTests", T + "SequenceMethodsTests", T + "MethodTests"],
)
