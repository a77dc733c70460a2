"""Everything the bot says outside of transcripts, in English and Russian."""

from __future__ import annotations

from domain.jobs import OutputMode, UserStyle

LANGUAGES = {
    "en": "English",
    "ru": "Русский",
    "uk": "Українська",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "pt": "Português",
    "tr": "Türkçe",
    "zh": "中文",
}

_TEXTS = {
    "start": (
        "Send me a voice message, audio or video, and I will send back its text.\n"
        "Long recordings are formatted into paragraphs. /help for settings.",
        "Пришлите голосовое, аудио или видео, и я пришлю его текст.\n"
        "Длинные записи оформляю абзацами. /help — настройки.",
    ),
    "help": (
        "I turn voice messages, audio files, videos and round videos into text.\n\n"
        "/balance: minutes left\n/settings: all settings\n/language: recognition language\n"
        "/code: wrap text in <code> for easy copying\n/yo: keep or replace the letter ё\n"
        "/output: messages or a .txt file",
        "Я превращаю голосовые, аудио, видео и кружочки в текст.\n\n"
        "/balance — остаток минут\n/settings — все настройки\n/language — язык распознавания\n"
        "/code — текст в <code> для удобного копирования\n/yo — оставлять или заменять ё\n"
        "/output — сообщениями или файлом .txt",
    ),
    "unsupported": (
        "I can only transcribe voice messages, audio and video (also sent as files).",
        "Я распознаю только голосовые, аудио и видео (в том числе отправленные файлом).",
    ),
    "rate_limited": (
        "You are sending faster than I can keep up. Please wait {seconds} s and send it again.",
        "Слишком много файлов подряд. Подождите {seconds} с и отправьте ещё раз.",
    ),
    "balance": ("Minutes left: {balance}.", "Осталось минут: {balance}."),
    "settings": ("Your settings:", "Ваши настройки:"),
    "language_prompt": ("Recognition language:", "Язык распознавания:"),
    "auto": ("Detect automatically", "Определять автоматически"),
    "on": ("on", "вкл"),
    "off": ("off", "выкл"),
    "code": ("<code> formatting: {state}", "Формат <code>: {state}"),
    "yo": ("Letter ё: {state}", "Буква ё: {state}"),
    "output": ("Output: {state}", "Вывод: {state}"),
    "as_messages": ("messages", "сообщения"),
    "as_file": (".txt file", "файл .txt"),
    "language": ("Language: {state}", "Язык: {state}"),
    "saved": ("Saved.", "Сохранено."),
    "unknown_command": ("I don't know that command. /help", "Не знаю такой команды. /help"),
    "balance_report": (
        "Minutes left: {balance}. Used this month: {used}.",
        "Осталось минут: {balance}. Израсходовано в этом месяце: {used}.",
    ),
    "choose_package": (
        "Choose a package (paid in Telegram Stars):",
        "Выберите пакет (оплата в Telegram Stars):",
    ),
    "package": ("{minutes} min — {stars} ⭐", "{minutes} мин — {stars} ⭐"),
    "paid": (
        "Thank you! {minutes} minutes added. Balance: {balance}.",
        "Спасибо! Добавлено {minutes} мин. Баланс: {balance}.",
    ),
    "invoice_sent": ("Invoice sent.", "Счёт отправлен."),
    "unknown_package": (
        "This package is no longer offered. /buy_minutes",
        "Этого пакета больше нет. /buy_minutes",
    ),
    "limit_reached": (
        "You have bought this package the maximum number of times.",
        "Этот пакет уже куплен максимальное число раз.",
    ),
    "bad_payload": (
        "This invoice is not valid any more. Please use /buy_minutes again.",
        "Этот счёт больше недействителен. Используйте /buy_minutes ещё раз.",
    ),
    "wrong_currency": ("Please pay in Telegram Stars.", "Оплата только в Telegram Stars."),
    "wrong_price": (
        "The price has changed. Please use /buy_minutes again.",
        "Цена изменилась. Используйте /buy_minutes ещё раз.",
    ),
    "wrong_buyer": (
        "This invoice was made for another user.",
        "Этот счёт выставлен другому пользователю.",
    ),
}


def text(key: str, language_code: str | None, **values: object) -> str:
    english, russian = _TEXTS[key]
    chosen = russian if (language_code or "").lower().startswith("ru") else english
    return chosen.format(**values)


def describe_setting(key: str, style: UserStyle, language_code: str | None) -> str:
    if key == "language":
        state = LANGUAGES.get(style.language or "", text("auto", language_code))
    elif key == "output":
        state = text("as_file" if style.output is OutputMode.FILE else "as_messages", language_code)
    else:
        enabled = style.use_code_tags if key == "code" else style.use_yo
        state = text("on" if enabled else "off", language_code)
    return text(key, language_code, state=state)
