"""The ``perfbench`` command line.

Core commands live here; further commands (mine, validate, build, clean,
publish, leaderboard) are modules of ``perfbench.commands`` that each export a
click ``command``, so that each feature keeps its CLI beside its code.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from . import __version__
from .errors import PerfbenchError

console = Console(stderr=True)
log = logging.getLogger("perfbench")


class PerfbenchGroup(click.Group):
    """Turns our own errors into one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerfbenchError as exc:
            console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            console.print(
                "[yellow]interrupted[/]: finished reports are kept; run the same command to resume"
            )
            ctx.exit(130)


@click.group(
    cls=PerfbenchGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="perfbench")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def main(verbose: int, quiet: bool) -> None:
    """perfbench: can an agent make real code faster, as well as an expert did?

    \b
    Quick start (offline, bundled examples):
      perfbench evaluate --dataset instances/examples \\
          --predictions instances/examples/predictions/samples.jsonl --run-id demo
      perfbench evaluate --dataset instances/examples --predictions gold --run-id gold
    """
    _terminate_gracefully()
    level = logging.WARNING if quiet else (logging.DEBUG if verbose >= 2 else logging.INFO)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=console, show_path=verbose >= 2, markup=False)],
        force=True,
    )
    if verbose < 2:
        logging.getLogger("docker").setLevel(logging.WARNING)
        logging.getLogger("urllib3").setLevel(logging.WARNING)
        logging.getLogger("git").setLevel(logging.WARNING)


def _terminate_gracefully() -> None:
    """SIGTERM ends a run like Ctrl-C: sandboxes are cleaned up, finished reports kept."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread (e.g. under a test runner)
        pass


def _register_plugins() -> None:
    from . import commands

    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        cmd = getattr(module, "command", None)
        if isinstance(cmd, click.Command):
            main.add_command(cmd)


_register_plugins()


def run() -> None:  # pragma: no cover - console entry point alias
    sys.exit(main())


__all__ = ["console", "main"]
