"""perfbench: can a software-engineering agent make real code faster, as well as an expert did?"""

__version__ = "0.1.0"
