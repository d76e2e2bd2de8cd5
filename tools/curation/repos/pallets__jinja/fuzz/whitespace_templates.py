import json, os, random, subprocess, sys
rng = random.Random(4)
pieces = ["{% if x %}", "{% endif %}", "{{ x }}", "{# c #}", " ", "  ", "\t", "\n", "a", "<b>", "{%- if x -%}", "{%+ if x %}", "{{- x -}}", "{% raw %}{{ r }}{% endraw %}", "    ", "{% for i in l %}", "{% endfor %}", "#", "%", "{", "}"]
texts = []
for _ in range(2500):
    parts = [rng.choice(pieces) for _ in range(rng.randint(1, 25))]
    texts.append("".join(parts))
code = r'''
import json, sys, jinja2
texts = json.load(sys.stdin)
out = []
for opts in ({}, {"lstrip_blocks": True}, {"trim_blocks": True}, {"lstrip_blocks": True, "trim_blocks": True}):
    env = jinja2.Environment(**opts)
    for t in texts:
        try: out.append(env.from_string(t).render(x=1, l=[1, 2]))
        except Exception as e: out.append("EXC " + type(e).__name__)
print(json.dumps(out))
'''
outs = []
for tree in sys.argv[1:3]:
    r = subprocess.run([os.environ.get("PYTHON", sys.executable), "-c", code], input=json.dumps(texts), capture_output=True, text=True, env={"PYTHONPATH": tree})
    if r.returncode: print(r.stderr[-1500:]); raise SystemExit
    outs.append(json.loads(r.stdout))
allt = texts * 4
d = [(i // len(texts), t, a, b) for i, (t, a, b) in enumerate(zip(allt, *outs)) if a != b]
print(len(d), "of", len(allt), "differ")
for x in d[:6]: print(x)
