"""Mining new instances from repository histories (DESIGN.md section 8).

Stages: :mod:`.commits` finds candidate speed-up commits; later stages write
workloads for them and validate the expert speed-up.
"""

from .commits import (
    Candidate,
    CommitInfo,
    FileChange,
    Rejection,
    ScanConfig,
    ScanResult,
    find_candidates,
    scan,
)

__all__ = [
    "Candidate",
    "CommitInfo",
    "FileChange",
    "Rejection",
    "ScanConfig",
    "ScanResult",
    "find_candidates",
    "scan",
]
