"""Which seed each workload runs at: the visible one at 0, hidden ones at a secret per release.

A dataset release fixes ``eval_seed`` (kept out of anything an agent is given); an
instance may pin its own. Each hidden workload derives its seed from it by a hash,
so that one workload's inputs say nothing of another's.
"""

from __future__ import annotations

import hashlib

from .records import Instance, Workload


def release_seed(eval_seed: int, instance: Instance) -> int:
    """The seed an instance's hidden workloads derive from: its own, else the dataset's."""
    return instance.hidden_seed if instance.hidden_seed is not None else eval_seed


def hidden_seed(eval_seed: int, instance: Instance, workload: str) -> int:
    """The secret seed of a hidden workload: fixed per dataset release, never shown to agents."""
    base = release_seed(eval_seed, instance)
    digest = hashlib.sha256(f"{base}:{instance.instance_id}:{workload}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1


def workload_seed(eval_seed: int, instance: Instance, workload: Workload) -> int:
    """The seed ``workload`` is timed at: 0 for the visible workload, else its hidden seed."""
    return 0 if workload.visible else hidden_seed(eval_seed, instance, workload.name)


def seed_digest(eval_seed: int, instance: Instance) -> str:
    """A fingerprint of the seed the hidden workloads were validated with (the seed itself stays secret)."""
    return hashlib.sha256(
        f"perfbench-seed:{release_seed(eval_seed, instance)}".encode()
    ).hexdigest()[:12]
