"""escape() and escape_silent() over 10,000 template values: 92% plain strings, some None,
ints, floats and Markup objects."""

import hashlib
import random
import string

import markupsafe
from markupsafe import Markup, _speedups


def setup(seed=0):
    assert markupsafe.escape is _speedups.escape, "markupsafe C speedups not in use"
    rng = random.Random(seed)
    vals = []
    for _ in range(10000):
        r = rng.random()
        if r < 0.92:
            vals.append("".join(rng.choice(string.printable[:94]) for _ in range(rng.randint(1, 40))))
        elif r < 0.94:
            vals.append(None)
        elif r < 0.96:
            vals.append(rng.randrange(10**6))
        elif r < 0.98:
            vals.append(rng.random())
        else:
            vals.append(Markup("<i>%d</i>" % rng.randrange(100)))
    return vals


def run(vals):
    a = [markupsafe.escape(v) for v in vals]
    b = [markupsafe.escape_silent(v) for v in vals[::4]]
    return hashlib.sha256("\x00".join(a + b).encode()).hexdigest()
