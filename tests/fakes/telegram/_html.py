"""Telegram's HTML parse mode, checked the way the Bot API checks it.

Only tag balance, the supported tag names, and character entities are checked, which is
what makes a real ``sendMessage`` fail with "can't parse entities". The error details
imitate Telegram's wording; byte offsets are UTF-8 offsets into the sent text.
"""

from __future__ import annotations

import html
import re

SUPPORTED_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "a",
        "tg-spoiler",
        "blockquote",
        "span",
        "tg-emoji",
    ]
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|lt|gt|amp|quot);")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's detail text."""


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, tuple[str, ...]]:
    """The rendered text and the normalised tags of ``text``; ``HtmlError`` if invalid."""
    plain: list[str] = []
    tags: list[str] = []
    open_tags: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            index = _take_tag(text, index, open_tags, tags)
        elif char == "&":
            entity = _ENTITY.match(text, index)
            if entity is None:
                raise HtmlError(f"Character entity expected at byte offset {_offset(text, index)}")
            plain.append(html.unescape(entity.group(0)))
            index = entity.end()
        else:
            plain.append(char)
            index += 1
    if open_tags:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(plain), tuple(tags)


def _take_tag(text: str, index: int, open_tags: list[str], tags: list[str]) -> int:
    match = _TAG.match(text, index)
    offset = _offset(text, index)
    if match is None:
        raise HtmlError(f"Unsupported start tag at byte offset {offset}")
    closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
    if name not in SUPPORTED_TAGS:
        kind = "end" if closing else "start"
        raise HtmlError(f'Unsupported {kind} tag "{name}" at byte offset {offset}')
    if closing:
        if not open_tags:
            raise HtmlError(f'Unexpected end tag "{name}" at byte offset {offset}')
        if open_tags[-1] != name:
            raise HtmlError(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tags[-1]}>", '
                f'found "</{name}>"'
            )
        open_tags.pop()
        tags.append(f"/{name}")
    else:
        if name == "span" and "tg-spoiler" not in attributes:
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and "emoji-id" not in attributes:
            raise HtmlError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
            )
        open_tags.append(name)
        tags.append(f"{name} {attributes.strip()}".strip())
    return match.end()


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode())
