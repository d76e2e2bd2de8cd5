"""Publishing datasets of instances to the Hugging Face hub, or to a folder laid out like one.

``schema`` fixes the columns (explicit ``datasets.Features``), ``card`` writes
the dataset card, ``folder`` lays out the files (parquet under ``data/``, the
card, a ``perfbench.json`` sidecar, repository bundles) and checks they load
back unchanged, ``push`` uploads with ``push_to_hub``. The hidden evaluation
seed is never part of what is published.
"""
