"""Serialise job records whose durations are TimeDelta fields at each precision: Schema.dump(many=True)."""

import datetime as dt
import random

from marshmallow import Schema, fields


class Job:
    def __init__(self, rng, i):
        self.id = i
        self.runtime = dt.timedelta(seconds=rng.randrange(10**5), microseconds=rng.randrange(10**6))
        self.timeout = dt.timedelta(minutes=rng.randrange(10**4))
        self.retention = dt.timedelta(days=rng.randrange(400), hours=rng.randrange(24))


class JobSchema(Schema):
    id = fields.Int()
    runtime = fields.TimeDelta(precision="microseconds")
    timeout = fields.TimeDelta(precision="seconds")
    retention = fields.TimeDelta(precision="days")


SCHEMA = JobSchema()


def setup(seed=0):
    rng = random.Random(seed)
    return [Job(rng, i) for i in range(1000)]


def run(jobs):
    res = SCHEMA.dump(jobs, many=True)
    return getattr(res, "data", res)
