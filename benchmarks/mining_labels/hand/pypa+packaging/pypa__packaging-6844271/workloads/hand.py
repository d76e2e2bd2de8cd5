"""The manylinux platform tags an installer computes for the running interpreter, for a seed-chosen set of architectures."""

import random

from packaging import _manylinux

ARCHS = ["x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x"]


def setup(seed=0):
    rng = random.Random(seed)
    return [rng.choice(ARCHS) for _ in range(6)]


def run(archs):
    return [list(_manylinux.platform_tags([arch])) for arch in archs]
