"""markupsafe.escape() of 15,000 short plain strings (user names and labels, 3 to 24 characters,
a few with <, >, & or quotes), as a template does for every value it prints."""

import hashlib
import random
import string

import markupsafe
from markupsafe import _speedups


def setup(seed=0):
    # The C speedups must be built and in use: this instance is about them.
    assert markupsafe.escape is _speedups.escape, "markupsafe C speedups not in use"
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "_.- "
    out = []
    for _ in range(15000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 24)))
        if rng.random() < 0.05:
            s += rng.choice(["<b>", "&", "\"", "'", ">"])
        out.append(s)
    return out


def run(values):
    escape = markupsafe.escape
    out = [escape(v) for v in values]
    return hashlib.sha256("\x00".join(out).encode()).hexdigest(), out[:3]
