"""``newsletter serve``: the live preview, until Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import layout_for, require


def run(issue: Path, port: int, edition: str, time_limit: float, layout: Path | None) -> None:
    """Serve the live preview of ``edition`` of ``issue`` on 127.0.0.1:``port``."""
    from ..workbench.liveview import ServeOptions
    from ..workbench.serve import serve as run_server

    require(issue)
    try:
        run_server(ServeOptions(issue, edition, layout_for(layout), port, time_limit=time_limit), typer.echo)
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and passes the Ctrl-C on
    typer.echo("stopped")
