"""bot/fakeapi/html.py: the fake Telegram refuses HTML the way the real one does."""

from __future__ import annotations

import html
import random

import pytest

from bot.fakeapi.html import HtmlError, parse, utf16_len


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("Xin chào", "Xin chào"),
        ("", ""),
        ("1 > 0", "1 > 0"),
        ("&lt;b&gt;", "<b>"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("&quot;trích&quot;", '"trích"'),
        ("it&#39;s", "it's"),
        ("&#x1F600;", "😀"),
        ("<b>đậm</b>", "đậm"),
        ("<strong>x</strong><em>y</em><u>z</u><s>w</s>", "xyzw"),
        ("<b><i>x</i></b>", "x"),
        ("<B>x</B>", "x"),
        ('<a href="https://x">liên kết</a>', "liên kết"),
        ("<a href='https://x/?a=1&amp;b=2'>q</a>", "q"),
        ("<code>a &lt; b</code>", "a < b"),
        ("<pre>line 1\nline 2</pre>", "line 1\nline 2"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote>trích dẫn</blockquote>", "trích dẫn"),
        ("<tg-spoiler>bí mật</tg-spoiler>", "bí mật"),
        ('<span class="tg-spoiler">bí mật</span>', "bí mật"),
        ("<b>Khẩn cấp:</b> gọi <code>111</code>", "Khẩn cấp: gọi 111"),
    ],
)
def test_accepted_text_and_its_visible_part(text: str, visible: str) -> None:
    assert parse(text) == visible


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<", "Unclosed start tag"),
        ("a < b", "Unclosed start tag"),
        ("<b", "Unclosed start tag"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("dòng 1<br>dòng 2", 'Unsupported start tag "br"'),
        ("<br/>", 'Unsupported start tag "br"'),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<>", "Unsupported start tag"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("x</b>", "Unmatched end tag"),
        ("Tom & Jerry", "Character entity expected"),
        ("&", "Character entity expected"),
        ("a&nbsp;b", "Character entity expected"),
        ("&amp", "Character entity expected"),
        ("&#;", "Character entity expected"),
    ],
)
def test_refused_text(text: str, reason: str) -> None:
    with pytest.raises(HtmlError) as info:
        parse(text)
    message = str(info.value)
    assert message.startswith("can't parse entities")
    assert reason in message


def test_error_offset_is_in_utf8_bytes() -> None:
    # "Tiếng " is 8 bytes in UTF-8 ("ế" takes 3), though only 6 characters.
    with pytest.raises(HtmlError, match=r"at byte offset 8$"):
        parse("Tiếng <")


@pytest.mark.parametrize(
    "hostile",
    [
        '<script>&"',
        "a < b && c > d",
        "&amp;",
        "&lt;b&gt;",
        "</b>",
        "<b>",
        "&#x1F600;",
        "&nbsp;",
        "'\"<>&",
        "Nguyễn Văn <A> & con",
        "<<>>&&;;",
        "😀 <i>",
    ],
)
def test_escaped_text_always_passes_and_reads_back_unchanged(hostile: str) -> None:
    assert parse(html.escape(hostile, quote=False)) == hostile


def test_escaped_random_text_always_passes() -> None:
    alphabet = "<>&;#x/\"' abAZ09ệđ😀\n"
    rng = random.Random(111)
    for _ in range(2_000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 30)))
        assert parse(html.escape(text, quote=False)) == text


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("😀", 2), ("a😀b", 4), ("Việt Nam", 8), ("👨‍👩‍👧", 8)],
)
def test_utf16_len(text: str, units: int) -> None:
    assert utf16_len(text) == units
