"""Settings buttons carry the value they set, so a tap handled twice lands once."""

from __future__ import annotations

import pytest

from application.commands import Setting
from domain.jobs import OutputMode, UserStyle
from entrypoints.telegram.keyboards import (
    SettingTap,
    parse_setting,
    setting_data,
    settings_keyboard,
)


@pytest.mark.parametrize("setting", list(Setting))
@pytest.mark.parametrize("enabled", [False, True])
def test_a_buttons_data_parses_back_to_the_value_it_sets(setting: Setting, enabled: bool) -> None:
    data = setting_data(setting, enabled)
    assert len(data.encode()) <= 64, "Telegram's limit for callback data"
    assert parse_setting(data) == SettingTap(setting, enabled)


def test_an_old_keyboards_flip_button_is_still_understood() -> None:
    assert parse_setting("set:code") == SettingTap(Setting.CODE, None)
    assert parse_setting("set:output") == SettingTap(Setting.OUTPUT, None)


@pytest.mark.parametrize(
    "data", ["set:code:", "set:code:file", "set:output:on", "set:yo:on:x", "set:size:on", None]
)
def test_other_data_is_not_a_setting(data: str | None) -> None:
    assert parse_setting(data) is None


def test_each_button_sets_the_opposite_of_what_the_keyboard_shows() -> None:
    style = UserStyle(use_code_tags=True, use_yo=False, output=OutputMode.MESSAGES)
    keyboard = settings_keyboard(style, "en")
    taps = [parse_setting(row[0].callback_data) for row in keyboard.inline_keyboard[:3]]
    assert taps == [
        SettingTap(Setting.CODE, False),
        SettingTap(Setting.YO, True),
        SettingTap(Setting.OUTPUT, True),
    ]
