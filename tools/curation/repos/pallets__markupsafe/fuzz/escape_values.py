import json, random, subprocess, sys
code = r'''
import json, random, markupsafe
from markupsafe import Markup, _speedups
assert markupsafe.escape is _speedups.escape
rng = random.Random(5)
class S(str): pass
class H:
    def __html__(self): return "<h>"
out = []
for _ in range(5000):
    s = "".join(rng.choice("ab<>&'\"\u00e9\u4e2d\U0001f600 ") for _ in range(rng.randint(0, 20)))
    for v in (s, S(s), Markup(s), H(), rng.randrange(100), None, rng.random()):
        out.append([str(markupsafe.escape(v)), type(markupsafe.escape(v)).__name__, str(markupsafe.escape_silent(v))])
print(json.dumps(out))
'''
outs = [json.loads(subprocess.run([py, "-c", code], capture_output=True, text=True, cwd="/tmp").stdout) for py in sys.argv[1:3]]
print(sum(a != b for a, b in zip(*outs)), "of", len(outs[0]), "differ")
