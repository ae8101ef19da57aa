"""`treem poster`: printable posters with a QR code per village.

Scanning the code opens the bot with /start r_<village id>, so the report starts with
the commune and village already filled in.
"""

from __future__ import annotations

import html
import io
import pathlib
from dataclasses import dataclass

import segno

from bot.i18n import _
from handlers.start import POSTER_PREFIX


@dataclass(frozen=True)
class PosterVillage:
    id: int
    name: str


def poster_link(bot_username: str, village_id: int) -> str:
    return f"https://t.me/{bot_username}?start={POSTER_PREFIX}{village_id}"


def _qr_svg(link: str) -> str:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False,
                                     svgns=True, nl=False, omitsize=True)
    return buffer.getvalue().decode("utf-8")


def render_posters(*, bot_username: str, commune_name: str, on_duty_phone: str | None,
                   villages: list[PosterVillage]) -> str:
    """One A4 page per village, as a self-contained HTML file to print."""
    e = lambda s: html.escape(str(s))  # noqa: E731
    title = _("Is a child in danger?")
    lead = _("Scan this code with your phone to tell the commune, safely and confidentially. "
             "You can stay anonymous.")
    call = _("In an emergency call: 113 police · 115 ambulance · 111 child protection hotline "
             "(free, 24/7)")
    if on_duty_phone:
        call += " · " + _("commune on-duty phone {phone}").format(phone=on_duty_phone)
    page_title = _("Posters for {commune}").format(commune=commune_name)
    pages = []
    for village in villages:
        link = poster_link(bot_username, village.id)
        pages.append(f"""
<section class="page">
  <h1>{e(title)}</h1>
  <p class="lead">{e(lead)}</p>
  <div class="qr">{_qr_svg(link)}</div>
  <p class="place">{e(village.name)} – {e(commune_name)}</p>
  <p class="link">{e(link)}</p>
  <p class="call">{e(call)}</p>
</section>""")
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>{e(page_title)}</title>
<style>
  @page {{ size: A4; margin: 18mm; }}
  body {{ font-family: "Noto Sans", Arial, sans-serif; margin: 0; }}
  .page {{ page-break-after: always; text-align: center; padding-top: 10mm; }}
  h1 {{ font-size: 34pt; margin: 0 0 8mm; color: #b00020; }}
  .lead {{ font-size: 16pt; margin: 0 12mm 8mm; }}
  .qr svg {{ display: block; margin: 0 auto; width: 110mm; height: 110mm; }}
  .place {{ font-size: 22pt; font-weight: bold; margin: 6mm 0 2mm; }}
  .link {{ font-size: 10pt; color: #555; }}
  .call {{ font-size: 14pt; margin-top: 8mm; }}
</style></head><body>{"".join(pages)}
</body></html>
"""


def write_posters(out_dir: pathlib.Path, commune_code: str, content: str) -> pathlib.Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"posters-{commune_code}.html"
    path.write_text(content, encoding="utf-8")
    return path
