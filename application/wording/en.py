"""Everything voicescribe says to a user in English, by key (the keys are the same in every
language: ``tests/unit/test_wording.py`` checks it)."""

TEXTS: dict[str, str] = {
    "start": "Send me a voice message, audio or video, and I will send back its text.\nLong recordings are formatted into paragraphs. /help for settings.",
    "help": "I turn voice messages, audio files, videos and round videos into text.\n\n/balance: minutes left\n/settings: all settings\n/language: recognition language\n/code: wrap text in <code> for easy copying\n/yo: keep or replace the letter ё\n/output: messages or a .txt file",
    "unsupported": "I can only transcribe voice messages, audio and video (also sent as files).",
    "rate_limited": "You are sending faster than I can keep up. Please wait {seconds} s and send it again.",
    "balance": "Minutes left: {balance}.",
    "settings": "Your settings:",
    "language_prompt": "Recognition language:",
    "auto": "Detect automatically",
    "on": "on",
    "off": "off",
    "code": "<code> formatting: {state}",
    "yo": "Letter ё: {state}",
    "output": "Output: {state}",
    "as_messages": "messages",
    "as_file": ".txt file",
    "language": "Language: {state}",
    "saved": "Saved.",
    "unknown_command": "I don't know that command. /help",
    "balance_report": "Minutes left: {balance}. Used this month: {used}.",
    "choose_package": "Choose a package (paid in Telegram Stars):",
    "package": "{minutes} min — {stars} ⭐",
    "paid": "Thank you! {minutes} minutes added. Balance: {balance}.",
    "payment_not_credited": "Your payment of {stars} ⭐ does not match the price of the package it was for, so no minutes were added. The owner has been told and will refund it. Payment reference: {charge_id}",
    "payment_unrecognized": "Your payment of {stars} ⭐ was for an invoice that is no longer valid, so no minutes were added. The owner has been told and will refund it. Payment reference: {charge_id}",
    "invoice_sent": "Invoice sent.",
    "unknown_package": "This package is no longer offered. /buy_minutes",
    "limit_reached": "You have bought this package the maximum number of times.",
    "bad_payload": "This invoice is not valid any more. Please use /buy_minutes again.",
    "wrong_currency": "Please pay in Telegram Stars.",
    "wrong_price": "The price has changed. Please use /buy_minutes again.",
    "wrong_buyer": "This invoice was made for another user.",
    "notice.no_speech": "No speech found in this recording.",
    "notice.unreadable": "This file could not be read as audio.",
    "notice.too_long": "This recording is too long: the limit is {limit}.",
    "notice.empty": "This file is empty.",
    "notice.insufficient_minutes": "Not enough minutes: this recording needs {needed}, your balance is {balance}. /buy_minutes",
    "notice.file_too_large": "This file is too large to download (limit {limit_mb} MB).",
    "notice.file_unavailable": "The file could not be fetched. Please send it again.",
    "notice.service_busy": "The service is busy right now. Please try again in a minute.",
    "notice.internal": "Something went wrong on our side. Your minutes were not charged.",
    "notice.low_balance": "Heads-up: {balance} minutes left. /buy_minutes to top up.",
    "notice.delayed": (
        "The speech recognition service is unavailable right now. Your recording is "
        "safe: it will be transcribed as soon as the service is back."
    ),
    "notice.not_a_transcript": (
        "Sorry, this recording could not be transcribed: the recognizer produced "
        "repeated nonsense instead of text. Nothing was charged. If you speak a "
        "language other than your Telegram's, choose it with /language and send the "
        "recording again."
    ),
    "stage.received": "🎧 Received. Getting to work…",
    "stage.queued": "⏳ In the queue{position}…",
    "stage.converting": "🔄 Preparing the audio…",
    "stage.recognizing": "📝 Recognizing speech{counter}…",
    "stage.formatting": "✍️ Formatting the text…",
    "unit.seconds": "{count} s",
    "unit.minutes": "{count} min",
    "unit.hours": "{count} h",
    "queue_position": ", position {position}",
}
