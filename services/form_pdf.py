"""A PDF of a filled form, where LibreOffice is installed (`soffice` on PATH).

Without it the bot sends the .docx alone. The conversion runs in a fresh temporary
directory with its own LibreOffice profile (two conversions at once do not share one) and
a time limit; any failure means "no PDF", never a lost .docx.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60


def converter() -> str | None:
    """The path of `soffice`, or None when it is not installed."""
    return shutil.which("soffice")


async def to_pdf(docx: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes | None:
    """The PDF of `docx`, or None (no converter, or it failed or took too long)."""
    soffice = converter()
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory(prefix="treem-form-") as tmp:
        folder = Path(tmp)
        source = folder / "form.docx"
        source.write_bytes(docx)
        process = await asyncio.create_subprocess_exec(
            soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
            "--convert-to", "pdf", "--outdir", str(folder), str(source),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True)  # its own process group: a hang is killed whole
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # soffice and its soffice.bin child
            await process.wait()
            log.warning("form PDF conversion took over %ss; sending the .docx only", timeout)
            return None
        result = folder / "form.pdf"
        if process.returncode != 0 or not result.exists():
            log.warning("form PDF conversion failed (exit %s)", process.returncode)
            return None
        return result.read_bytes()
