"""pbdemo: small pure-Python helpers.

Import the submodules you need, e.g. ``from pbdemo.seqs import unique``.
"""

__version__ = "0.2.0"
