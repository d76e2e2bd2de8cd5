"""Render a sensor dashboard asynchronously from lists of readings, reading cells by index and key (subscript lookups)."""

import asyncio
import random

from jinja2 import Environment

TEMPLATE = """{% for s in sensors %}<tr><th>{{ s['name'] }}</th>{% for i in range(s['values']|length) %}<td data-t="{{ s['times'][i] }}">{{ s['values'][i] }}{{ s['unit'] }}</td>{% endfor %}</tr>
{% endfor %}"""


def setup(seed=0):
    rng = random.Random(seed)
    sensors = []
    for k in range(rng.randint(60, 80)):
        n = rng.randint(14, 18)
        sensors.append({"name": "sensor-%d" % k, "unit": rng.choice(["C", "%", "hPa"]),
                        "values": [round(rng.uniform(-10, 40), 1) for _ in range(n)],
                        "times": ["%02d:%02d" % (rng.randrange(24), rng.randrange(60)) for _ in range(n)]})
    env = Environment(enable_async=True)
    return {"tmpl": env.from_string(TEMPLATE), "sensors": sensors, "loop": asyncio.new_event_loop()}


def run(data):
    return data["loop"].run_until_complete(data["tmpl"].render_async(sensors=data["sensors"]))
