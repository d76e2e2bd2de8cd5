"""top_words() over 2500 lines of an application log (timestamps, ids, key=value pairs)."""

import random

from pbdemo.text import top_words

LEVELS = ["INFO"] * 8 + ["DEBUG"] * 4 + ["WARN", "ERROR"]
ACTIONS = ["GET", "POST", "PUT", "DELETE"]
PATHS = ["/api/users", "/api/orders", "/static/app.js", "/login", "/api/items", "/health"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
MESSAGES = [
    "request finished",
    "cache miss for key",
    "retrying after timeout",
    "user's session renewed",
    "slow query detected",
    "connection reset by peer",
    "couldn't parse header",
]


def setup(seed=0):
    rng = random.Random(seed)
    lines = []
    for i in range(2500):
        day = 1 + i * 28 // 2500
        clock = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}"
        level = rng.choice(LEVELS)
        worker = rng.randrange(16)
        request = f"{rng.choice(ACTIONS)} {rng.choice(PATHS)}?id={rng.randrange(5000)}"
        status = rng.choice([200, 200, 200, 201, 204, 301, 404, 500])
        millis = int(rng.expovariate(1 / 40.0))
        user = rng.choice(USERS)
        message = rng.choice(MESSAGES)
        lines.append(
            f"2024-03-{day:02d} {clock} {level} worker-{worker} {request} "
            f"status={status} in {millis}ms user='{user}' {message}"
        )
    return "\n".join(lines) + "\n"


def run(text):
    return top_words(text, n=30, stopwords={"for", "by", "in", "after"})
