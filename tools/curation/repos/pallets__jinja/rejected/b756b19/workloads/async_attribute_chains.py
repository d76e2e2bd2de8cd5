"""Render shipping labels asynchronously: each label follows chains of attribute lookups through nested records."""

import asyncio
import random

from jinja2 import Environment

TEMPLATE = """{% for s in shipments %}{{ s.order.customer.name }} | {{ s.order.customer.address.street }} {{ s.order.customer.address.number }}
{{ s.order.customer.address.zip }} {{ s.order.customer.address.city }} ({{ s.order.customer.address.country.code }})
order {{ s.order.id }} via {{ s.carrier.name }} [{{ s.carrier.service.level }}] weight {{ s.parcel.weight }} kg
{% endfor %}"""

STREETS = ["Main St", "Elm Rd", "Bahnhofstr.", "Rue Haute", "Via Roma"]


def setup(seed=0):
    rng = random.Random(seed)
    shipments = []
    for i in range(rng.randint(120, 160)):
        address = {"street": rng.choice(STREETS), "number": rng.randrange(1, 300), "zip": "%05d" % rng.randrange(10 ** 5),
                   "city": rng.choice(["Bern", "Lyon", "Turin", "Graz"]), "country": {"code": rng.choice(["CH", "FR", "IT", "AT"])}}
        shipments.append({"order": {"id": 5000 + i, "customer": {"name": "Client %d" % rng.randrange(999), "address": address}},
                          "carrier": {"name": rng.choice(["DHL", "UPS", "Post"]), "service": {"level": rng.choice(["eco", "express"])}},
                          "parcel": {"weight": round(rng.uniform(0.1, 30), 1)}})
    env = Environment(enable_async=True)
    return {"tmpl": env.from_string(TEMPLATE), "shipments": shipments, "loop": asyncio.new_event_loop()}


def run(data):
    return data["loop"].run_until_complete(data["tmpl"].render_async(shipments=data["shipments"]))
