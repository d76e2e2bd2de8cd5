"""Inner join of 12,000 orders against 1,500 customers by customer id; about three orders in
four reference a customer that is not in the table."""

import random

from toolz import join


def setup(seed=0):
    rng = random.Random(seed)
    customers = [(cid, "customer-%d" % cid, rng.choice("NESW")) for cid in rng.sample(range(6000), 1500)]
    orders = [(oid, rng.randrange(6000), rng.randrange(1, 500)) for oid in range(12000)]
    return customers, orders


def run(data):
    customers, orders = data
    pairs = list(join(0, customers, 1, orders))
    return {"n": len(pairs), "sample": pairs[::250]}
