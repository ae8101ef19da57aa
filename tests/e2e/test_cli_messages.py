"""What `treem` says to administrators is Vietnamese: no raw codes, no English sentence after a
Vietnamese start (the English may follow after " / " for searching)."""

from __future__ import annotations

import re

import pytest

from bot.cli import main
from tests.conftest import EXAMPLE_SETUP, without_bot_settings

_VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]")
_RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # agency_not_allowed, unit_kind_mismatch…


@pytest.fixture
def treem(monkeypatch, tmp_path, capsys):
    """Runs `treem ARGS` in this process on a fresh SQLite database with the example commune."""
    monkeypatch.chdir(tmp_path)
    without_bot_settings(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/treem.db")
    assert main(["setup", "import", str(EXAMPLE_SETUP)]) == 0
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str]:
        try:
            status = main(list(args))
        except SystemExit as exc:
            status = exc.code
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    return run


INVITE = ["invite", "--province", "ninh-binh", "--commune", "minh-tan"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["invite", "--province", "nowhere"], "không có tỉnh nào có mã nowhere"),
        (["invite", "--province", "ninh-binh", "--commune", "nowhere"],
         "không có xã nào của tỉnh này có mã nowhere"),
        ([*INVITE, "--role", "agency"], "thành viên cơ quan cần --agency"),
        ([*INVITE, "--role", "agency", "--agency", "nowhere"], "không có cơ quan nào"),
        ([*INVITE, "--role", "officer", "--agency", "cong-an"], "chỉ vai trò agency"),
        ([*INVITE, "--role", "collaborator"], "cộng tác viên thôn cần --commune và --village"),
        ([*INVITE, "--role", "collaborator", "--village", "nowhere"], "không có thôn nào"),
        (["poster", "--province", "ninh-binh", "--commune", "minh-tan"],
         "hãy đặt TELEGRAM_BOT_TOKEN, hoặc ghi tên người dùng của trợ lý bằng --bot-username"),
        (["poster", "--province", "nowhere", "--commune", "minh-tan", "--bot-username", "b"],
         "không có tỉnh nào có mã nowhere"),
    ],
)
def test_refusals_are_vietnamese(treem, args, says):
    status, output = treem(*args)
    assert status == 2
    assert says in output, output
    assert not _RAW_CODE.search(output.replace("--", "  ")), output
    for line in output.splitlines():
        assert _VIETNAMESE.search(line), line


def test_setup_file_problems_are_vietnamese_with_the_english_after(treem, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(EXAMPLE_SETUP.read_text("utf-8").replace('code = "thon-dong"',
                                                                'code = "Thôn Đông"', 1)
                      + '\nmayor = "x"\n', encoding="utf-8")
    status, output = treem("setup", "import", str(broken))
    assert status == 2
    assert "Không dùng được tệp thiết lập" in output
    assert "không phải mục cài đặt được dùng ở đây / Extra inputs are not permitted" in output
    assert "không viết đúng dạng quy định / String should match pattern" in output
    status, output = treem("setup", "import", str(tmp_path / "missing.toml"))
    assert status == 2 and "không mở được tệp" in output


def test_a_province_file_imports_with_the_same_command(treem, tmp_path):
    province = EXAMPLE_SETUP.parent / "binh-thuan.toml"
    status, output = treem("setup", "import", str(province))
    assert status == 0 and "Đã nhập Tỉnh Bình Thuận" in output, output
    broken = tmp_path / "province.toml"
    broken.write_text(province.read_text("utf-8").replace('report_year_by = "trước 20/11"',
                                                          'report_year_by = "hằng quý 5/1"'),
                      encoding="utf-8")
    status, output = treem("setup", "import", str(broken))
    assert status == 2 and "hãy viết 20/5 hoặc trước 20/5" in output, output


def test_success_messages_are_vietnamese(treem):
    status, output = treem(*INVITE, "--role", "officer")
    assert status == 0
    assert "Lời mời dùng một lần" in output and "/start i_" in output
    status, output = treem("db", "upgrade")
    assert status == 0 and _VIETNAMESE.search(output)
    status, output = treem("check")
    assert status == 0 and "Cấu hình hợp lệ" in output


def test_help_is_vietnamese(treem):
    status, output = treem("--help")
    assert status == 0
    assert "trợ lý bảo vệ trẻ em" in output and "sao lưu cơ sở dữ liệu SQLite" in output
    status, output = treem("invite", "--help")
    assert status == 0 and "mã tỉnh, ví dụ ninh-binh" in output
