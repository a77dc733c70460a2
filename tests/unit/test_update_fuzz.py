"""Untrusted Telegram input, fuzzed: updates, callback data and invoice payloads.

Every update is parsed by PTB (``Update.de_json``) before our code sees it; what PTB
accepts, ``audio_source`` must translate into an ``AudioSource`` or ``None`` without
raising (its docstring promises: "any message, however malformed"). What PTB itself
refuses is PTB's business and is skipped here. Callback data and invoice payloads are
plain strings anyone can craft: their parsers must answer "not understood", never raise.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from telegram import Bot, Update

from application.commands import Setting
from domain.catalogue import parse_payload
from domain.jobs import AudioSource, MediaKind
from entrypoints.telegram.keyboards import (
    output_data,
    parse_language,
    parse_output,
    parse_setting,
    setting_data,
)
from entrypoints.telegram.media import audio_source
from entrypoints.telegram.texts import LANGUAGES
from infrastructure.telegram.output_buttons import parse_stored_output, stored_output_data

BOT = Bot("123:abc")  # never initialized: de_json only keeps it for shortcuts
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies around real Telegram shapes --------------------------------------------

file_ids = st.text(
    st.characters(categories=("Lu", "Ll", "Nd"), include_characters="-_"),
    min_size=1,
    max_size=40,
) | st.sampled_from(["AwACAgIAAxkBAAIBZ2Y", "BQACAgIAAxkBAAI00001", "x", "0"])
nonsense = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
durations = st.one_of(
    st.integers(-(10**6), 10**9),
    st.sampled_from([0, 1, 59, 60, 61, 10**7 - 1, 10**7, 2**31 - 1]),
    st.floats(-1e6, 1e9, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
)
mime_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "audio/ogg",
            "audio/mpeg",
            "audio/x-m4a",
            "video/mp4",
            "video/quicktime",
            "application/octet-stream",
            "application/pdf",
            "text/plain",
            "audio",
            "video/",
            "/",
            "",
            "AUDIO/OGG",
            "image/png",
        ]
    ),
    st.text(max_size=30),
)
file_names = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "note.ogg",
            "talk.MP3",
            "meeting.m4a",
            "clip.mp4",
            "film.mkv",
            "notes.txt",
            "cv.pdf",
            ".ogg",
            "no_extension",
            "",
            "archive.ogg.zip",
            "голос.opus",
            "a" * 300 + ".wav",
        ]
    ),
    st.text(max_size=40),
)
sizes = st.one_of(st.none(), st.integers(-1, 3 * 2**31), st.sampled_from([0, 20 * 2**20 + 1]))


def _media(draw: st.DrawFn, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    """Required fields usually present and well typed; optional ones drawn or left out."""
    media: dict[str, Any] = {
        "file_id": draw(file_ids),
        "file_unique_id": draw(file_ids),
    }
    for name, strategy in {**required, **optional}.items():
        if name in required or draw(st.booleans()):
            media[name] = draw(strategy)
    if draw(st.integers(0, 19)) == 0:  # now and then a field of the wrong type entirely
        media[draw(st.sampled_from(sorted(media)))] = draw(nonsense)
    return media


@st.composite
def media_payloads(draw: st.DrawFn, *, field_text: st.SearchStrategy[Any] | None) -> dict[str, Any]:
    """The media part of a message: one (sometimes two) of voice/audio/video/... ."""
    mime = mime_types if field_text is None else field_text
    name = file_names if field_text is None else field_text
    shapes: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "voice": ({"duration": durations}, {"mime_type": mime, "file_size": sizes}),
        "audio": (
            {"duration": durations},
            {
                "mime_type": mime,
                "file_name": name,
                "file_size": sizes,
                "title": st.text(max_size=20),
                "performer": st.text(max_size=20),
            },
        ),
        "video": (
            {"duration": durations, "width": st.integers(0, 4096), "height": st.integers(0, 4096)},
            {"mime_type": mime, "file_name": name, "file_size": sizes},
        ),
        "video_note": (
            {"duration": durations, "length": st.integers(0, 640)},
            {"file_size": sizes},
        ),
        "document": ({}, {"mime_type": mime, "file_name": name, "file_size": sizes}),
    }
    kinds = draw(st.lists(st.sampled_from(sorted(shapes)), min_size=0, max_size=2, unique=True))
    return {kind: _media(draw, *shapes[kind]) for kind in kinds}


@st.composite
def updates(draw: st.DrawFn, field_text: st.SearchStrategy[Any] | None = None) -> dict[str, Any]:
    user = {"id": draw(st.integers(1, 2**52)), "is_bot": False, "first_name": draw(st.text())}
    if draw(st.booleans()):
        user["language_code"] = draw(st.sampled_from(["en", "ru", "", "xx-YY"]) | st.text())
    chat_id = draw(st.integers(-(2**52), 2**52).filter(bool))
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": draw(st.integers(0, 2**33)),
        "chat": {"id": chat_id, "type": draw(st.sampled_from(["private", "group", "channel"]))},
        **draw(media_payloads(field_text=field_text)),
    }
    if draw(st.booleans()):
        message["from"] = user
    if draw(st.booleans()):
        message["caption"] = draw(st.text(max_size=50))
    kind = draw(st.sampled_from(["message", "edited_message", "channel_post"]))
    return {"update_id": draw(st.integers(0, 2**31)), kind: message}


def parsed(data: dict[str, Any]) -> Update | None:
    """PTB's own parse; None when PTB refuses the data (not ours to judge)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Update.de_json(data, BOT)
    except Exception:
        return None


def check_source(source: AudioSource | None) -> None:
    if source is None:
        return
    assert isinstance(source, AudioSource)
    assert isinstance(source.kind, MediaKind)
    assert isinstance(source.file_id, str) and source.file_id, source
    duration = source.duration_seconds
    assert duration is None or (
        isinstance(duration, float) and math.isfinite(duration) and duration > 0
    ), source


def source_of(data: dict[str, Any]) -> AudioSource | None:
    update = parsed(data)
    assume(update is not None and update.effective_message is not None)
    assert update is not None and update.effective_message is not None
    return audio_source(update.effective_message)


# --- audio_source ----------------------------------------------------------------------


@FUZZ
@given(updates())
@example(
    {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "voice": {"file_id": "v", "file_unique_id": "u", "duration": 0},
        },
    }
)
def test_audio_source_never_raises_on_what_ptb_accepts(data: dict[str, Any]) -> None:
    check_source(source_of(data))


@FUZZ
@given(updates())
def test_media_kinds_and_what_the_sender_said_are_kept(data: dict[str, Any]) -> None:
    """Voice, audio, video and round video always carry audio; a document only when its
    type or name says audio or video. Telegram's duration is kept when it is a plausible
    number of seconds, else left for the probe."""
    source = source_of(data)
    message = next(v for k, v in data.items() if k != "update_id")
    carried = [
        k
        for k in ("voice", "audio", "video", "video_note")
        if k in message and str(message[k]["file_id"])
    ]
    if carried:
        assert source is not None and source.kind is MediaKind(carried[0])
        assert source.file_id == str(message[carried[0]]["file_id"])
    elif source is not None:
        assert source.kind is MediaKind.DOCUMENT
    check_source(source)


@FUZZ
@given(updates(field_text=st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2))))
@example(
    {
        "update_id": 2,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "document": {"file_id": "d", "file_unique_id": "u", "mime_type": 5},
        },
    }
)
def test_audio_source_never_raises_on_wrongly_typed_document_fields(data: dict[str, Any]) -> None:
    """PTB passes a document's mime_type and file_name through with whatever JSON type
    they came in: anything but a string means "not audio", not an AttributeError."""
    check_source(source_of(data))


@FUZZ
@given(st.sampled_from(["voice", "audio", "video_note", "document"]), st.integers(1, 600))
def test_media_with_an_empty_file_id_is_not_a_source(kind: str, duration: int) -> None:
    """Nothing can ever be fetched with an empty file_id: no source, not a doomed job."""
    media: dict[str, Any] = {"file_id": "", "file_unique_id": "u", "duration": duration}
    media |= {"length": 240} if kind == "video_note" else {"mime_type": "audio/ogg"}
    data = {
        "update_id": 3,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, kind: media},
    }
    assert source_of(data) is None


# --- callback data ---------------------------------------------------------------------

callback_data = st.one_of(
    st.none(),
    st.text(),
    st.text(max_size=64).map(lambda t: "set:" + t),
    st.text(max_size=64).map(lambda t: "lang:" + t),
    st.text(max_size=64).map(lambda t: "again:" + t),
    st.text(max_size=64).map(lambda t: "set:output:" + t),
    st.sampled_from(
        [
            "again:srt:",
            "again:srt:tg:1:2",
            "again:timed:tg:-5:7",
            "set:output:srt",
            "output:menu",
            "set:",
            "lang:",
            "set:code",
            "set:CODE",
            "set:code ",
            "set:code:",
            "set:code:on",
            "set:output:file",
            "set:output:on",
            "set:yo:off:x",
            "lang:auto",
            "lang:menu",
            ":",
        ]
    ),
    st.binary(max_size=64).map(lambda b: b.decode("utf-8", "replace")),
)


@FUZZ
@given(callback_data)
@example("set:yo\x00")
@example("lang:zz")
def test_callback_data_parsers_never_raise(data: str | None) -> None:
    tap = parse_setting(data)
    understood, language = parse_language(data)
    if tap is not None:
        assert isinstance(tap.setting, Setting)
        if tap.enabled is None:
            assert data == "set:" + tap.setting.value, "an old keyboard's flip button"
        else:
            assert data == setting_data(tap.setting, tap.enabled)
    assert isinstance(understood, bool)
    if not understood:
        assert language is None
    else:
        assert language is None or language in LANGUAGES
        assert data == "lang:" + (language or "auto")
    output = parse_output(data)
    if output is not None:
        assert data == output_data(output)
    again = parse_stored_output(data)
    if again is not None:
        assert data == stored_output_data(again.mode, again.job_id) and again.job_id


# --- invoice payloads ------------------------------------------------------------------


payload_text = st.text(st.characters(exclude_categories=("Cs",)))
payloads = st.one_of(
    payload_text,
    st.tuples(payload_text, payload_text).map(lambda p: f"vs1:{p[0]}:{p[1]}"),
    st.tuples(st.text("m0123456789", max_size=6), st.integers(-5, 2**70)).map(
        lambda p: f"vs1:{p[0]}:{p[1]}"
    ),
    st.sampled_from(["", "vs1", "vs1::", "vs1:m10:", "vs1::42", "vs2:m10:42", "vs1:m10:42:"]),
)


@FUZZ
@given(payloads)
@example("vs1:m10:" + "9" * 21)
@example("vs1:m10:²")
def test_invoice_payloads_are_read_or_refused(payload: str) -> None:
    result = parse_payload(payload)
    if result is not None:
        package_id, user_id = result
        assert isinstance(package_id, str) and package_id and ":" not in package_id
        assert isinstance(user_id, int) and user_id >= 0


@FUZZ
@given(st.sampled_from("²³¹⁰⁴⁹①⑨₂١٢"), st.text("0123456789", max_size=4))
def test_payloads_with_non_ascii_digits_are_refused(digit: str, rest: str) -> None:
    """str.isdigit() says yes to '²' and '١', which int() cannot read or reads as a
    different user: the payload the bot makes is ASCII, anything else is refused."""
    assert parse_payload(f"vs1:m10:{rest}{digit}") is None
