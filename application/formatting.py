"""The formatting chain: LLM formatters in order of preference, then the local formatter.

Short transcripts skip the LLMs entirely (the word threshold of the policy). Output that
fails a formatter's guard (an error, or much shorter than the input) moves on to the next
formatter, and if every formatter fails the user gets the recognized text as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs

from application.errors import FormattingFailed
from application.ports import TextFormatter
from domain.jobs import UserStyle
from domain.policies import is_plausible_formatting, needs_llm_formatting

log = logging.getLogger(__name__)


@attrs.frozen
class FormattedText:
    text: str
    formatter: str


class FormattingChain:
    def __init__(
        self,
        llm_formatters: Sequence[TextFormatter],
        local_formatter: TextFormatter,
        word_threshold: int,
    ) -> None:
        self._llm_formatters = tuple(llm_formatters)
        self._local_formatter = local_formatter
        self._word_threshold = word_threshold

    async def format(self, text: str, style: UserStyle) -> FormattedText:
        chain = [self._local_formatter]
        if needs_llm_formatting(text, self._word_threshold):
            chain = [*self._llm_formatters, self._local_formatter]
        for formatter in chain:
            try:
                formatted = await formatter.format(text, style)
            except FormattingFailed as error:
                log.warning("formatter %s failed: %s", formatter.name, error)
                continue
            if is_plausible_formatting(text, formatted):
                return FormattedText(formatted, formatter.name)
            log.warning("formatter %s dropped too much text; trying the next", formatter.name)
        return FormattedText(text, "none")
