"""Commands of the perfbench CLI: each module exports a click ``command``."""
