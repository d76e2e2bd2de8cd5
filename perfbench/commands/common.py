"""Option parsing shared by commands."""

from __future__ import annotations

import click


def parse_ids(text: str | None) -> list[str] | None:
    if not text:
        return None
    ids = [t.strip() for t in text.split(",") if t.strip()]
    return ids or None


def parse_cpus(text: str) -> tuple[int, ...]:
    """'1', '0,2' or '2-3' -> CPU numbers."""
    cpus: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                cpus.extend(range(int(lo), int(hi) + 1))
            elif part:
                cpus.append(int(part))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a CPU list like '1', '0,2' or '2-3'", param_hint="--cpus") from None
    if not cpus:
        raise click.BadParameter("empty CPU list", param_hint="--cpus")
    return tuple(sorted(set(cpus)))
