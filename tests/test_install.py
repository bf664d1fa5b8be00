"""Installed as real software: the wheel built from the checkout, installed (not editable) into
a fresh virtual environment, and every command run from a folder that holds a copy of
``issues/`` alone, as a ministry's IT would install the tool for its editors.

No network: the wheel is built without build isolation (setuptools comes with the test
extra) and installed with ``--no-deps`` into an environment that sees this one's packages
through a ``.pth`` file. The PDFs it builds are the checkout's, byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ISSUE_10, ROOT, BuiltPdf
from typer.testing import CliRunner

from newsletter import cli
from newsletter.shipped import DEFAULT_LAYOUT, SCHEMA, Layout
from newsletter.workbench.scaffold import schema_reference

#: What the wheel is built from: the project's files, links kept (files/ links to the top).
SOURCES = ("pyproject.toml", "README.md", "newsletter", "layouts", "fonts", "docs")


@dataclass(frozen=True)
class Installed:
    """A wheel installed into its own environment, and a folder of issues elsewhere."""

    wheel: Path
    bin: Path
    site: Path
    work: Path

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``newsletter ARGS`` as an editor runs it, from the folder of issues."""
        return subprocess.run(
            [str(self.bin / "newsletter"), *args],
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )


def _build_wheel(into: Path) -> Path:
    source = into / "source"
    source.mkdir()
    for name in SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, source / name)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(into),
            ".",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = into.glob("newsletter-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    wheel = _build_wheel(base)
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Then this environment's packages, seen after the wheel's own (no download of its
    # dependencies). Not before: pip would take the newsletter it finds there as installed.
    (site / "test-environment.pth").write_text(
        "\n".join(sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})) + "\n"
    )
    work = base / "office"
    shutil.copytree(ISSUE_10.parent, work / "issues")
    return Installed(wheel, env / "bin", site, work)


def test_the_wheel_carries_every_module_the_layout_the_fonts_and_their_licences(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    code = {p.relative_to(ROOT).as_posix() for p in (ROOT / "newsletter").rglob("*.py")}
    assert code <= names, sorted(code - names)
    for top in ("layouts", "fonts"):
        files = {
            f"newsletter/files/{p.relative_to(ROOT).as_posix()}"
            for p in (ROOT / top).rglob("*")
            if p.is_file()
        }
        assert files and files <= names, sorted(files - names)
    assert {"newsletter/files/fonts/lato/OFL.txt", "newsletter/files/fonts/noto-serif/OFL.txt"} <= names
    assert "newsletter/files/docs/issue.schema.json" in names
    assert "newsletter/workbench/web/index.html" in names


def test_the_installed_package_is_the_wheels_not_the_checkouts(installed: Installed) -> None:
    done = subprocess.run(
        [str(installed.bin / "python"), "-c", "import newsletter.shipped as s; print(s.__file__, s.LAYOUTS)"],
        cwd=installed.work,
        capture_output=True,
        text=True,
        check=True,
    )
    module, layouts = done.stdout.split()
    assert Path(module).is_relative_to(installed.site) and Path(layouts).is_relative_to(installed.site)
    assert not Path(layouts).is_symlink()


def test_build_from_another_folder_gives_the_checkouts_bytes(installed: Installed, issue10: BuiltPdf) -> None:
    done = installed.run("build", "issues/issue-10.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "timestamp" not in done.stderr, done.stderr
    built = installed.work / "out" / "issue-10-email.pdf"
    assert built.read_bytes() == issue10.path.read_bytes()


def test_check_schema_and_new_from_another_folder(installed: Installed) -> None:
    done = installed.run("check", "issues/issue-10.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cannot print" not in done.stdout + done.stderr
    schema = installed.run("schema")
    assert schema.returncode == 0 and json.loads(schema.stdout) == json.loads(
        (ROOT / "docs" / "issue.schema.json").read_text(encoding="utf-8")
    )
    office = installed.work / "new"
    shutil.copytree(installed.work / "issues", office / "issues")
    done = subprocess.run(
        [str(installed.bin / "newsletter"), "new", "issues/issue-10.yaml"],
        cwd=office,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    first = (office / "issues" / "issue-11.yaml").read_text(encoding="utf-8").splitlines()[0]
    # Named relatively, beside the issue: never a path into site-packages.
    assert first == "# yaml-language-server: $schema=issue.schema.json"
    assert (office / "issues" / "issue.schema.json").read_bytes() == (
        ROOT / "docs" / "issue.schema.json"
    ).read_bytes()


def test_preview_and_send_dry_run_from_another_folder(installed: Installed) -> None:
    done = installed.run("preview", "issues/issue-10.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((installed.work / "out" / "preview").rglob("*.png"))) >= 12
    posts = installed.work / "posts.yaml"
    posts.write_text(
        "sender: newsletter@example.org\n"
        "server: {host: 127.0.0.1, port: 2525, security: starttls}\n"
        "posts:\n"
        "  - name: Embassy of France in Albania\n    addresses: [chancellerie@tirana.example]\n"
        "  - name: Embassy of France in Serbia\n    addresses: [chancellerie@belgrade.example]\n    language: fr\n",
        encoding="utf-8",
    )
    done = installed.run("send", "issues/issue-10.yaml", "--to", "posts.yaml", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((installed.work / "out" / "mail").rglob("*.eml"))) == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(installed: Installed) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(installed.bin / "newsletter"), "serve", "issues/issue-10.yaml", "--port", str(port)],
        cwd=installed.work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_serve_from_another_folder(served: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{served}/pages/1.png", timeout=10) as answer:
                assert answer.status == 200 and answer.read(8) == b"\x89PNG\r\n\x1a\n"
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_lost_fonts_folder_is_one_error_naming_it(installed: Installed, tmp_path: Path) -> None:
    """An installation without its fonts: exit 4, the folder looked for, never a list of the
    characters "the bundled fonts cannot print"."""
    broken = tmp_path / "site"
    shutil.copytree(installed.site / "newsletter", broken / "newsletter")
    shutil.rmtree(broken / "newsletter" / "files" / "fonts")
    done = subprocess.run(
        [
            str(installed.bin / "python"),
            "-m",
            "newsletter",
            "build",
            "issues/issue-10.yaml",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=installed.work,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(broken)},
        check=False,
    )
    assert done.returncode == cli.EXIT_ENVIRONMENT, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert str(broken / "newsletter" / "files" / "fonts") in said and "no such fonts folder" in said, said
    assert "cannot print" not in said and len(said.strip().splitlines()) <= 3, said
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# ---------- the same checks in process (checkout), fast


def test_a_layout_folder_without_templates_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "layout").mkdir()
    result = CliRunner().invoke(
        cli.app,
        ["build", str(ISSUE_10), "--layout", str(tmp_path / "layout"), "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == cli.EXIT_ENVIRONMENT, result.output
    assert str(tmp_path / "layout") in result.output and "issue.html.j2" in result.output
    assert not (tmp_path / "out").exists()


def test_fonts_folder_without_fonts_is_one_error(tmp_path: Path) -> None:
    from newsletter.build import build_issue
    from newsletter.errors import EnvironmentFault

    (tmp_path / "fonts").mkdir()
    with pytest.raises(EnvironmentFault) as caught:
        build_issue(ISSUE_10, tmp_path / "out", layout=Layout(DEFAULT_LAYOUT.templates, tmp_path / "fonts"))
    assert caught.value.path == tmp_path / "fonts" and "holds no font" in caught.value.message


def test_an_issue_inside_the_checkout_names_its_schema_relatively() -> None:
    inside = ROOT / "issues" / "issue-11.yaml"
    if SCHEMA.is_relative_to(ROOT):  # the package is this checkout's (editable)
        assert schema_reference(inside) == "../docs/issue.schema.json"
    else:  # an installed wheel (.ci/pythons runs the tests so): the checkout is any folder
        assert schema_reference(inside) == "issue.schema.json"
    assert schema_reference(Path("/srv/office/issues/issue-11.yaml")) == "issue.schema.json"
