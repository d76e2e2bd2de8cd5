"""c_ast.NodeVisitor collecting every identifier use (visit_ID) in a generated 40-function C unit (a linter pass)."""

import random

from pycparser import c_ast, c_parser


def _expr(rng, names, depth=0):
    r = rng.random()
    if depth < 3 and r < 0.35:
        return f"({_expr(rng, names, depth + 1)} {rng.choice(['+', '-', '*', '/', '<<', '&', '|', '^', '%'])} {_expr(rng, names, depth + 1)})"
    if depth < 3 and r < 0.45:
        return f"f{rng.randrange(8)}({_expr(rng, names, depth + 1)}, {_expr(rng, names, depth + 1)})"
    if r < 0.7:
        return rng.choice(names)
    if r < 0.8:
        return f"0x{rng.randrange(1 << 16):x}U"
    if r < 0.9:
        return f"{rng.uniform(0, 100):.3f}f"
    return str(rng.randrange(1000))


def make_unit(rng, n_funcs):
    out = ["typedef unsigned int u32;", "struct point { int x; int y; double w; };"]
    for k in range(8):
        out.append(f"int f{k}(int a, int b);")
    for i in range(n_funcs):
        names = ["a", "b", "i", "acc", "p->x", "p->y", "buf[i]"]
        out.append(f"static int func_{i}(int a, int b, struct point *p, char *buf) {{")
        out.append("    int i, acc = 0;")
        for _ in range(rng.randint(3, 8)):
            r = rng.random()
            if r < 0.3:
                out.append(f"    for (i = 0; i < {rng.randrange(2, 64)}; i++) {{ acc += {_expr(rng, names)}; }}")
            elif r < 0.55:
                out.append(f"    if ({_expr(rng, names)} > {_expr(rng, names)}) acc ^= {_expr(rng, names)}; else acc -= 1;")
            elif r < 0.7:
                out.append(f'    puts("step {i}: value\\t%d\\n");')
            else:
                out.append(f"    acc = {_expr(rng, names)};")
        out.append("    return acc;")
        out.append("}")
    return "\n".join(out) + "\n"


class IdCollector(c_ast.NodeVisitor):
    def __init__(self):
        self.names = {}

    def visit_ID(self, node):
        self.names[node.name] = self.names.get(node.name, 0) + 1


def setup(seed=0):
    rng = random.Random(seed)
    return c_parser.CParser().parse(make_unit(rng, 40), filename="<unit>")


def run(ast):
    v = IdCollector()
    v.visit(ast)
    return sorted(v.names.items())
