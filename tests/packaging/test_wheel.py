"""The wheel holds everything the bot needs: built, installed into a fresh virtual environment
(dependencies pinned by uv.lock) and run from a folder where the source tree is not on the path.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import EXAMPLE_SETUP, ROOT, TEST_DATA_KEY

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

pytestmark = pytest.mark.slow


def _uv() -> str:
    pinned = ROOT / ".tools" / "bin" / "uv"  # what `make` installs
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    assert found, "uv is needed: run `make install` first"
    return found


def _run(*args: str | pathlib.Path, cwd: pathlib.Path, env: dict | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> pathlib.Path:
    """A fresh virtual environment with only the wheel and its locked dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_PROJECT", "VIRTUAL_ENV"))}
    _run(uv, "build", "--wheel", "-q", "-o", work / "dist", cwd=ROOT, env=env)
    _run(uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "-q",
         "-o", work / "requirements.txt", cwd=ROOT, env=env)
    _run(uv, "venv", "-q", work / "venv", "--python", sys.executable, cwd=work, env=env)
    (wheel,) = (work / "dist").glob("*.whl")
    _run(uv, "pip", "install", "-q", "--python", work / "venv" / "bin" / "python",
         "-r", work / "requirements.txt", wheel, cwd=work, env=env)
    return work


def test_the_wheel_holds_every_package_and_data_file(installed):
    (wheel,) = (installed / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("bot", "domain", "handlers", "services", "storage"):
        sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / package).rglob("*.py")}
        assert sources <= names, (package, sorted(sources - names)[:5])
    expected = {
        "messages/vi/LC_MESSAGES/treem.po",
        "domain/data/default_events.toml",
        "storage/migrations/env.py",
        "storage/migrations/script.py.mako",
        "examples/minh-tan.toml",
        "bot/fakeapi/server.py",
    }
    versions = {p.name for p in (ROOT / "storage" / "migrations" / "versions").glob("0*.py")}
    expected |= {f"storage/migrations/versions/{name}" for name in versions}
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith("tests/") for n in names)


def test_the_installed_command_runs_without_the_source_tree(installed, tmp_path):
    treem = installed / "venv" / "bin" / "treem"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/treem.db",
           "TREEM_DATA_KEY": TEST_DATA_KEY}
    assert "usage: treem" in _run(treem, "--help", cwd=tmp_path, env=env)
    assert "Cấu hình hợp lệ" in _run(treem, "check", cwd=tmp_path, env=env)
    # Migrations, the set-up import (services/) and the catalog, from the installed files.
    assert "Cơ sở dữ liệu đang ở phiên bản" in _run(treem, "db", "upgrade", cwd=tmp_path, env=env)
    imported = _run(treem, "setup", "import", EXAMPLE_SETUP, cwd=tmp_path, env=env)
    assert "Đã nhập Xã Minh Tân" in imported, imported
    python = installed / "venv" / "bin" / "python"
    where = _run(python, "-c", "import bot, services; print(bot.__file__, services.__file__)",
                 cwd=tmp_path, env=env)
    assert str(ROOT) not in where and "site-packages" in where
