"""Render a CSV-like export asynchronously: every cell of each row is a field lookup on a dict."""

import asyncio
import random

from jinja2 import Environment

FIELDS = ["id", "name", "email", "city", "country", "plan", "seats", "mrr", "status", "owner"]
TEMPLATE = "{% for r in rows %}" + ",".join("{{ r.%s }}" % f for f in FIELDS) + "\n{% endfor %}"


def setup(seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(rng.randint(150, 200)):
        rows.append({"id": i, "name": "user%d" % rng.randrange(10 ** 6), "email": "u%d@example.com" % i,
                     "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv"]), "country": rng.choice(["NO", "PE", "IN", "UA"]),
                     "plan": rng.choice(["free", "pro", "team"]), "seats": rng.randrange(1, 50),
                     "mrr": round(rng.uniform(0, 900), 2), "status": rng.choice(["active", "churned"]),
                     "owner": rng.choice(["ana", "bo", "cy"])})
    env = Environment(enable_async=True)
    return {"tmpl": env.from_string(TEMPLATE), "rows": rows, "loop": asyncio.new_event_loop()}


def run(data):
    return data["loop"].run_until_complete(data["tmpl"].render_async(rows=data["rows"]))
