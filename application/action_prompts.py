"""The instructions a language model gets for each action on a transcript, versioned.

Why this exists: the prompts are ours and live in one place, so a change of wording is one
edit and one version bump (``PROMPT_VERSION`` is stored with each result, so what wrote a
cached answer can be told). Each prompt is written in the transcript's language where we
have it (English and Russian), and asks for the answer in that language (a translation:
in the target language), as plain text: the bot escapes it for Telegram's HTML itself.
"""

from __future__ import annotations

from domain.transcript_actions import ActionRequest, TranscriptAction

PROMPT_VERSION = 1

# Names of the languages a translation may go to, as the prompts name them.
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Russian",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "zh": "Chinese",
    "uk": "Ukrainian",
    "it": "Italian",
    "pt": "Portuguese",
    "tr": "Turkish",
}

_PLAIN = {
    "en": "Answer with plain text only, without markup, titles or comments.",
    "ru": "Отвечай только простым текстом, без разметки, заголовков и комментариев.",
}
_PROMPTS = {
    "en": {
        TranscriptAction.SUMMARY: (
            "You summarise a speech-recognition transcript. Write a short summary of what "
            "was said: the main points in a few sentences, in the language of the "
            "transcript. Do not add anything that was not said."
        ),
        TranscriptAction.ACTION_ITEMS: (
            "You read a speech-recognition transcript and list the action items in it: "
            "tasks, promises, decisions and deadlines, one per line starting with '- ', "
            "with who and when if said, in the language of the transcript. If there are "
            "none, answer with one line saying there are no action items."
        ),
        TranscriptAction.TRANSLATE: (
            "You translate a speech-recognition transcript into {target}. Translate "
            "everything, keep the paragraphs, do not summarise or add anything."
        ),
    },
    "ru": {
        TranscriptAction.SUMMARY: (
            "Ты пересказываешь расшифровку речи. Напиши краткое содержание сказанного: "
            "главное в нескольких предложениях, на языке расшифровки. Не добавляй того, "
            "чего не было сказано."
        ),
        TranscriptAction.ACTION_ITEMS: (
            "Ты читаешь расшифровку речи и выписываешь из неё задачи: поручения, обещания, "
            "решения и сроки, по одной в строке, начиная с '- ', с тем, кто и когда, если "
            "это сказано, на языке расшифровки. Если задач нет, ответь одной строкой, что "
            "задач нет."
        ),
        TranscriptAction.TRANSLATE: (
            "Ты переводишь расшифровку речи на язык: {target}. Переведи всё, сохрани абзацы, "
            "не сокращай и ничего не добавляй."
        ),
    },
}


def action_prompt(request: ActionRequest, transcript_language: str | None) -> str:
    """The instructions for ``request`` on a transcript in ``transcript_language`` (English
    for a language we have no prompts in: the model is told to keep the transcript's)."""
    language = (transcript_language or "en").split("-")[0].lower()
    prompts = _PROMPTS.get(language, _PROMPTS["en"])
    plain = _PLAIN.get(language, _PLAIN["en"])
    target = request.target_language or "en"
    target_name = LANGUAGE_NAMES.get(target, target)
    return f"{prompts[request.action].format(target=target_name)} {plain}"
