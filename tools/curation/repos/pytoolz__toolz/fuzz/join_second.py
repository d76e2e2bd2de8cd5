"""Differential check of toolz join/second between two trees: tfuzz.py BASE_TREE OPT_TREE"""
import json, subprocess, sys
code = r'''
import json, random
from toolz import join, second, identity
rng = random.Random(6)
out = []
for _ in range(3000):
    L = [(rng.randrange(8), rng.randrange(100)) for _ in range(rng.randint(0, 8))]
    R = [(rng.randrange(8), rng.randrange(100)) for _ in range(rng.randint(0, 8))]
    for kw in ({}, {"left_default": None}, {"right_default": None}, {"left_default": "L", "right_default": "R"}):
        out.append(list(join(0, L, 0, R, **kw)))
    for s in (L, iter(R), "ab", "a", [], range(3)):
        try: out.append(second(s))
        except Exception as e: out.append("EXC " + type(e).__name__)
print(json.dumps(out))
'''
outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": t}).stdout for t in sys.argv[1:3]]
a, b = (json.loads(o) for o in outs)
print(sum(x != y for x, y in zip(a, b)), "of", len(a), "differ")
