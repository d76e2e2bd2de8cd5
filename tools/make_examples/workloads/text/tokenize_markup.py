"""tokenize() over 250 KB of Markdown/HTML-like markup with code, punctuation and non-ASCII words."""

import hashlib
import random
import string

from pbdemo.text import tokenize

FRAGMENTS = [
    "<p>",
    "</p>",
    '<a href="/docs/{w}.html">',
    "</a>",
    "**",
    "`",
    "```py\n",
    "\n```\n",
    "# ",
    "## ",
    "- ",
    "[{w}]({w}.md)",
    "{w}_{w}()",
    "{w}.{w}",
    "&nbsp;",
    "(",
    ")",
    "naïve",
    "café",
    "Ünïcode",
    "42",
    "3.14",
    "x86_64",
    "don't",
    "'quoted'",
]


def setup(seed=0):
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 9)))
        for _ in range(2000)
    ]
    parts = []
    size = 0
    while size < 250_000:
        if rng.random() < 0.3:
            piece = rng.choice(FRAGMENTS).replace("{w}", rng.choice(vocab))
        else:
            piece = rng.choice(vocab) + rng.choice(" " * 6 + ",.;:\n")
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


def run(text):
    words = tokenize(text)
    digest = hashlib.sha256("\n".join(words).encode()).hexdigest()
    return {"count": len(words), "head": words[:30], "sha256": digest}
