"""asv benchmarks of minilib.seqs."""

from minilib.seqs import chunks, dedupe


class Dedupe:
    params = (300, 2000)
    param_names = ("n",)

    def setup(self, n):
        self.items = [(i * 7919) % (n // 2) for i in range(n)]

    def time_dedupe(self, n):
        dedupe(self.items)


class Chunks:
    def setup(self):
        self.items = list(range(10000))

    def time_chunks(self):
        chunks(self.items, 7)
