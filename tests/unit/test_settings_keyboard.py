"""Settings buttons carry the value they set, so a tap handled twice lands once."""

from __future__ import annotations

import pytest

from application.commands import Setting
from domain.jobs import OutputMode, UserStyle
from entrypoints.telegram.keyboards import (
    OUTPUT_MENU,
    SETTINGS_BACK,
    SettingTap,
    output_data,
    output_keyboard,
    parse_output,
    parse_setting,
    setting_data,
    settings_keyboard,
)
from infrastructure.telegram.output_buttons import (
    StoredOutputTap,
    parse_stored_output,
    stored_output_buttons,
    stored_output_data,
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
    taps = [parse_setting(row[0].callback_data) for row in keyboard.inline_keyboard[:2]]
    assert taps == [SettingTap(Setting.CODE, False), SettingTap(Setting.YO, True)]
    output_row = keyboard.inline_keyboard[2][0]
    assert output_row.callback_data == OUTPUT_MENU, "the output has five values: a menu"
    assert output_row.text == "Output: text"


@pytest.mark.parametrize("mode", list(OutputMode))
def test_an_output_buttons_data_parses_back_to_its_mode(mode: OutputMode) -> None:
    data = output_data(mode)
    assert len(data.encode()) <= 64
    assert parse_output(data) is mode


def test_an_older_keyboards_output_buttons_choose_the_modes_of_their_names() -> None:
    assert parse_output(setting_data(Setting.OUTPUT, True)) is OutputMode.FILE
    assert parse_output(setting_data(Setting.OUTPUT, False)) is OutputMode.MESSAGES


@pytest.mark.parametrize(
    "data", ["set:output", "set:output:", "set:output:mp3", "set:code:on", "output:menu", None]
)
def test_other_data_chooses_no_output(data: str | None) -> None:
    assert parse_output(data) is None


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_output_keyboard_offers_every_mode_and_marks_the_current_one(language: str) -> None:
    keyboard = output_keyboard(OutputMode.SRT, language)
    rows = keyboard.inline_keyboard
    assert [parse_output(row[0].callback_data) for row in rows[:-1]] == list(OutputMode)
    marked = [row[0].text for row in rows[:-1] if row[0].text.startswith("✓")]
    assert len(marked) == 1 and ".srt" in marked[0]
    assert rows[-1][0].callback_data == SETTINGS_BACK


def test_a_stored_output_buttons_data_parses_back_to_its_mode_and_job() -> None:
    job_id = "tg:-1001234567890:2147483647"  # a supergroup's message: a long id
    keyboard = stored_output_buttons(job_id, "en")
    assert keyboard is not None
    [row] = keyboard.inline_keyboard
    assert [b.text for b in row] == ["⏱ With timestamps", "🎬 Subtitles (.srt)"]
    assert all(len(str(b.callback_data).encode()) <= 64 for b in row)
    assert [parse_stored_output(str(b.callback_data)) for b in row] == [
        StoredOutputTap(OutputMode.TIMED, job_id),
        StoredOutputTap(OutputMode.SRT, job_id),
    ]


def test_no_buttons_for_a_job_id_too_long_for_telegrams_callback_data() -> None:
    assert stored_output_buttons("x" * 60, "en") is None


@pytest.mark.parametrize(
    "data",
    [
        "again:timed:",
        "again:vtt:tg:1:2",  # not offered under a result
        "again:file:tg:1:2",
        "again:tg:1:2",
        "again:",
        "set:output:srt",
        None,
    ],
)
def test_other_data_is_not_a_stored_output(data: str | None) -> None:
    assert parse_stored_output(data) is None


def test_stored_output_data_keeps_a_job_id_with_colons() -> None:
    data = stored_output_data(OutputMode.SRT, "tg:-5:7")
    assert parse_stored_output(data) == StoredOutputTap(OutputMode.SRT, "tg:-5:7")
