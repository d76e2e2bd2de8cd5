"""Right join (left_default=None) of 10,000 web sessions against 2,000 known users, keyed by
callables; most sessions are anonymous or from unknown users."""

import random

from toolz import join


def setup(seed=0):
    rng = random.Random(seed)
    users = [{"uid": "u%05d" % i, "plan": rng.choice(["free", "pro", "team"])} for i in rng.sample(range(20000), 2000)]
    sessions = [{"sid": i, "uid": "u%05d" % rng.randrange(20000), "pages": rng.randrange(1, 30)} for i in range(10000)]
    return users, sessions


def run(data):
    users, sessions = data
    matched = 0
    pages = 0
    for user, session in join(lambda u: u["uid"], users, lambda s: s["uid"], sessions, left_default=None):
        if user is not None:
            matched += 1
            pages += session["pages"]
    return {"matched": matched, "pages": pages}
