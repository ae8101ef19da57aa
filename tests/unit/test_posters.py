"""Village posters: one printable page per village, each QR code opening the report."""

from __future__ import annotations

import re

from bot.posters import PosterVillage, poster_link, render_posters


def test_one_page_per_village_with_its_link_and_numbers():
    html = render_posters(bot_username="treem_bot", commune_name="Xã <Minh> Tân",
                          on_duty_phone="0229 3 800 000",
                          villages=[PosterVillage(11, "Thôn Đông"), PosterVillage(12, "Thôn Đoài")])
    assert html.count('<section class="page">') == 2
    assert html.count("<svg") == 2
    assert "https://t.me/treem_bot?start=r_11" in html
    assert "https://t.me/treem_bot?start=r_12" in html
    assert "Xã &lt;Minh&gt; Tân" in html  # escaped
    assert "Có trẻ em đang gặp nguy hiểm?" in html and "111" in html and "0229 3 800 000" in html


def test_link_is_a_valid_start_payload():
    link = poster_link("treem_bot", 123456)
    payload = link.split("start=")[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
