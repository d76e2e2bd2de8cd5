import random, subprocess, json, sys
rng = random.Random(3)
vals = []
for _ in range(3000):
    r = rng.random()
    if r < 0.3: vals.append(rng.randrange(-10**18, 10**18))
    elif r < 0.5: vals.append(rng.uniform(-1e12, 1e12))
    elif r < 0.6: vals.append(str(rng.randrange(-10**9, 10**9)))
    elif r < 0.7: vals.append("%.4f" % rng.uniform(-1e6, 1e6))
    elif r < 0.75: vals.append(rng.choice([0, 1e16, 1.5e20, "abc", None, "1e5", " 12 ", 123456789012345678901234567890]))
    else: vals.append(rng.uniform(-1e-5, 1e30))
code = r'''
import json, sys
import humanize
vals = json.load(sys.stdin)
out = []
fs = [lambda v: humanize.intcomma(v), lambda v: humanize.intcomma(v, 2), lambda v: humanize.scientific(v), lambda v: humanize.scientific(v, 0), lambda v: humanize.ordinal(v), lambda v: humanize.ordinal(v, "female"), lambda v: humanize.apnumber(v)]
for v in vals:
    row = []
    for f in fs:
        try: row.append(f(v))
        except Exception as e: row.append("EXC " + type(e).__name__)
    out.append(row)
print(json.dumps(out))
'''
outs = []
for py in sys.argv[1:3]:
    r = subprocess.run([py, "-c", code], input=json.dumps(vals), capture_output=True, text=True, cwd="/tmp")
    if r.returncode: print(r.stderr[-1500:]); raise SystemExit
    outs.append(json.loads(r.stdout))
names = ["intcomma", "intcomma2", "scientific", "scientific0", "ordinal", "ordinalF", "apnumber"]
for k, n in enumerate(names):
    d = [(v, a[k], b[k]) for v, a, b in zip(vals, *outs) if a[k] != b[k]]
    print(n, len(d), d[:3])
