"""Differential fuzz for the part-D sortedcontainers instances: random update / slice-get / slice-del /
irange / islice operations on SortedList, SortedSet, SortedDict (and SortedListWithKey where present);
prints a digest of every result. Run in the base and opt trees and compare."""
import hashlib
import random
import sys
import warnings

warnings.simplefilter("ignore")
import sortedcontainers as sc

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
out = []


def rec(x):
    out.append(repr(x))


for trial in range(300):
    n = rng.choice([0, 1, 5, 50, 300, 2000, 5000])
    vals = [rng.randrange(-1000, 1000) for _ in range(n)]
    sl = sc.SortedList(vals)
    for _ in range(8):
        op = rng.randrange(6)
        L = len(sl)
        try:
            if op == 0:
                sl.update(rng.randrange(-1000, 1000) for _ in range(rng.choice([0, 1, 10, L // 3 + 1, L + 5])))
            elif op == 1:
                a, b = rng.randrange(-L - 3, L + 3), rng.randrange(-L - 3, L + 3)
                step = rng.choice([None, 1, -1, 2, -3])
                rec(sl[a:b:step])
            elif op == 2:
                a, b = rng.randrange(-L - 3, L + 3), rng.randrange(-L - 3, L + 3)
                step = rng.choice([None, 1, -1, 2])
                del sl[a:b:step]
            elif op == 3 and hasattr(sl, "irange"):
                lo, hi = sorted(rng.randrange(-1100, 1100) for _ in range(2))
                inc = (rng.random() < 0.5, rng.random() < 0.5)
                it = sl.irange(rng.choice([lo, None]), rng.choice([hi, None]), inc, reverse=rng.random() < 0.5)
                rec([v for _, v in zip(range(rng.choice([1, 5, 10**6])), it)])
            elif op == 4 and hasattr(sl, "islice"):
                a, b = rng.randrange(-3, L + 3), rng.randrange(-3, L + 3)
                it = sl.islice(a, b, reverse=rng.random() < 0.5)
                rec([v for _, v in zip(range(rng.choice([1, 4, 10**6])), it)])
            elif op == 5:
                sl += [rng.randrange(-1000, 1000) for _ in range(rng.choice([0, 3, L]))]
        except Exception as e:
            rec(type(e).__name__)
        rec(list(sl))
    ss = sc.SortedSet(vals)
    L = len(ss)
    try:
        a, b = rng.randrange(-L - 2, L + 2), rng.randrange(-L - 2, L + 2)
        rec(list(ss[a:b]))
        del ss[a:b]
    except Exception as e:
        rec(type(e).__name__)
    rec(list(ss))
    sd = sc.SortedDict((v, i) for i, v in enumerate(vals))
    L = len(sd)
    try:
        sd.update({rng.randrange(-2000, 2000): 1 for _ in range(rng.choice([0, 5, L]))})
        a, b = rng.randrange(-L - 2, L + 2), rng.randrange(-L - 2, L + 2)
        del sd.iloc[a:b]
    except Exception as e:
        rec(type(e).__name__)
    rec(list(sd.items()))
    if hasattr(sc, "SortedListWithKey"):
        sk = sc.SortedListWithKey(vals, key=lambda v: -v)
        try:
            sk.update(rng.randrange(-1000, 1000) for _ in range(rng.choice([0, 10, len(vals)])))
            L = len(sk)
            a, b = rng.randrange(-L - 2, L + 2), rng.randrange(-L - 2, L + 2)
            rec(list(sk[a:b]))
            del sk[a:b]
        except Exception as e:
            rec(type(e).__name__)
        rec(list(sk))
print(len(out), hashlib.sha256("\n".join(out).encode()).hexdigest()[:16])
