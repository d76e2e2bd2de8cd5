"""Headless Chromium for page tests: Debian's ``chromium`` driven by Playwright, never a download.

Tests call :func:`open_page`, which skips them with a reason when no Chromium
(or no Playwright) is found, unless ``PERFBENCH_REQUIRE_BROWSER=1`` (set by CI),
in which case a missing browser is a failure. Console errors, uncaught page
errors and every request the page makes are recorded for the test to check.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "PERFBENCH_REQUIRE_BROWSER"
CHROMIUM_ENV = "PERFBENCH_CHROMIUM"
SCREENSHOT_ENV = "PERFBENCH_SCREENSHOT_DIR"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Flags for a root user in a container, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


def screenshot_dir(tmp_path: Path) -> Path:
    """Screenshots go to ``$PERFBENCH_SCREENSHOT_DIR`` if set (kept for review), else tmp_path."""
    target = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


@contextmanager
def open_page(url: str, *, width: int = 1200, height: int = 900) -> Iterator[tuple[Any, PageLog]]:
    """Load ``url`` in a fresh headless Chromium profile; yields (Playwright page, log)."""
    exe = chromium_path()
    if exe is None:
        _unavailable(f"no Chromium found (looked for {', '.join(CANDIDATES)}; set {CHROMIUM_ENV})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(
            "playwright is not installed (pip install playwright; no browser download needed)"
        )
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    log = PageLog()
    profile = tempfile.mkdtemp(prefix="perfbench-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=exe,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height},
                offline=True,
            )
            try:
                page = context.new_page()
                page.on(
                    "console",
                    lambda m: log.console_errors.append(m.text) if m.type == "error" else None,
                )
                page.on("pageerror", lambda e: log.page_errors.append(str(e)))
                page.on("request", lambda r: log.requests.append(r.url))
                page.goto(url, wait_until="load")
                yield page, log
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
