"""Exceptions with messages for people.

Every error that a user can cause (bad input, a missing tool, a failed build)
is a :class:`PerfbenchError`. The CLI prints its message on one line and exits
non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class PerfbenchError(Exception):
    """Base class of errors that are reported to the user without a traceback."""

    exit_code = 1


class InputError(PerfbenchError):
    """Bad user input: names the file, line and field where it is known."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.line = line
        self.field = field
        self.detail = message
        where = ""
        if self.source:
            where = self.source
            if line is not None:
                where += f", line {line}"
        if field:
            where = f"{where}: field {field!r}" if where else f"field {field!r}"
        super().__init__(f"{where}: {message}" if where else message)


class PatchError(PerfbenchError):
    """A patch could not be applied, or was refused."""


class BuildError(PerfbenchError):
    """A variant's environment could not be built; ``log`` points at the build log."""

    def __init__(self, message: str, log: Path | None = None) -> None:
        self.log = log
        super().__init__(f"{message} (log: {log})" if log else message)


class HarnessError(PerfbenchError):
    """A failure of the evaluation itself, not of the patch under test.

    A test runner that is not installed, a sandbox that cannot be set up, a folder the
    harness needs that is missing, a Docker engine that stops answering, a full disk, an
    absent build tool. Such a report gets status ``error`` (never a FAIL verdict), is left
    out of the rates, and is redone when the same command runs again. ``fix`` says in one
    line what to do about it.
    """

    def __init__(self, message: str, *, fix: str = "") -> None:
        self.fix = fix
        super().__init__(f"{message} (fix: {fix})" if fix else message)


class BackendUnavailable(HarnessError):
    """The chosen sandbox backend cannot run on this machine (or stopped answering mid-run)."""


class RepositoryError(PerfbenchError):
    """A repository or commit could not be found or read."""
