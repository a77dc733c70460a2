"""Everything voicescribe says to a user in Russian, by key (the keys are the same in every
language: ``tests/unit/test_wording.py`` checks it)."""

TEXTS: dict[str, str] = {
    "start": "Пришлите голосовое, аудио или видео, и я пришлю его текст.\nДлинные записи оформляю абзацами. /help — настройки.",
    "help": "Я превращаю голосовые, аудио, видео и кружочки в текст.\n\n/balance — остаток минут\n/settings — все настройки\n/language — язык распознавания\n/code — текст в <code> для удобного копирования\n/yo — оставлять или заменять ё\n/output — сообщениями или файлом .txt",
    "unsupported": "Я распознаю только голосовые, аудио и видео (в том числе отправленные файлом).",
    "rate_limited": "Слишком много файлов подряд. Подождите {seconds} с и отправьте ещё раз.",
    "balance": "Осталось минут: {balance}.",
    "settings": "Ваши настройки:",
    "language_prompt": "Язык распознавания:",
    "auto": "Определять автоматически",
    "on": "вкл",
    "off": "выкл",
    "code": "Формат <code>: {state}",
    "yo": "Буква ё: {state}",
    "output": "Вывод: {state}",
    "as_messages": "сообщения",
    "as_file": "файл .txt",
    "language": "Язык: {state}",
    "saved": "Сохранено.",
    "unknown_command": "Не знаю такой команды. /help",
    "balance_report": "Осталось минут: {balance}. Израсходовано в этом месяце: {used}.",
    "choose_package": "Выберите пакет (оплата в Telegram Stars):",
    "package": "{minutes} мин — {stars} ⭐",
    "paid": "Спасибо! Добавлено {minutes} мин. Баланс: {balance}.",
    "payment_not_credited": "Ваш платёж на {stars} ⭐ не совпадает с ценой пакета, за который он сделан, поэтому минуты не начислены. Владелец бота уведомлён и вернёт звёзды. Номер платежа: {charge_id}",
    "payment_unrecognized": "Ваш платёж на {stars} ⭐ сделан по счёту, который больше не действует, поэтому минуты не начислены. Владелец бота уведомлён и вернёт звёзды. Номер платежа: {charge_id}",
    "invoice_sent": "Счёт отправлен.",
    "unknown_package": "Этого пакета больше нет. /buy_minutes",
    "limit_reached": "Этот пакет уже куплен максимальное число раз.",
    "bad_payload": "Этот счёт больше недействителен. Используйте /buy_minutes ещё раз.",
    "wrong_currency": "Оплата только в Telegram Stars.",
    "wrong_price": "Цена изменилась. Используйте /buy_minutes ещё раз.",
    "wrong_buyer": "Этот счёт выставлен другому пользователю.",
    "notice.no_speech": "В этой записи не найдено речи.",
    "notice.unreadable": "Не удалось прочитать этот файл как аудио.",
    "notice.too_long": "Запись слишком длинная: предел {limit}.",
    "notice.empty": "Файл пустой.",
    "notice.insufficient_minutes": "Недостаточно минут: нужно {needed}, на балансе {balance}. /buy_minutes",
    "notice.file_too_large": "Файл слишком большой для загрузки (предел {limit_mb} МБ).",
    "notice.file_unavailable": "Не удалось получить файл. Пожалуйста, отправьте его ещё раз.",
    "notice.service_busy": "Сервис сейчас занят. Попробуйте ещё раз через минуту.",
    "notice.internal": "Что-то пошло не так на нашей стороне. Минуты не списаны.",
    "notice.low_balance": "Осталось {balance} мин. Пополнить: /buy_minutes",
    "notice.delayed": (
        "Сервис распознавания речи сейчас недоступен. Запись не потеряется: она будет "
        "расшифрована, как только сервис заработает."
    ),
    "notice.not_a_transcript": (
        "К сожалению, эту запись не удалось расшифровать: вместо текста распознавание "
        "выдало повторяющуюся бессмыслицу. Минуты не списаны. Если вы говорите не на "
        "языке своего Telegram, выберите язык командой /language и отправьте запись ещё раз."
    ),
    "stage.received": "🎧 Получено. Начинаю…",
    "stage.queued": "⏳ В очереди{position}…",
    "stage.converting": "🔄 Готовлю аудио…",
    "stage.recognizing": "📝 Распознаю речь{counter}…",
    "stage.formatting": "✍️ Оформляю текст…",
    "unit.seconds": "{count} с",
    "unit.minutes": "{count} мин",
    "unit.hours": "{count} ч",
    "queue_position": ", место {position}",
}
