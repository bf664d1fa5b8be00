"""The baseline the benches measure against: headless Chromium printing an HTML file to PDF,
started as the machine's closed network needs (no background connections, a fresh profile)."""

from __future__ import annotations

import shutil
from pathlib import Path


def chromium_print_argv(html: Path, out: Path) -> list[str] | None:
    """The command that prints ``html`` to ``out/chromium.pdf``; None without Chromium."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return [
                found,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={out / 'chromium-profile'}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={out / 'chromium.pdf'}",
                html.as_uri(),
            ]
    return None
