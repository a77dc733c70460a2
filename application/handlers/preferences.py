"""Use cases: a user changes a preference (a setting of theirs); it applies to their next
recording."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import attrs

from application.commands import SetRecognitionLanguage, Setting, ToggleSetting
from application.ports import PreferencesRepository
from domain.jobs import OutputMode, UserStyle


class Preferences:
    """Reads a user's preferences (defaults for a new user) and applies changes to them."""

    def __init__(self, repository: PreferencesRepository) -> None:
        self._repository = repository
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def of(self, user_id: int) -> UserStyle:
        return await self._repository.get(user_id) or UserStyle()

    async def toggle(self, command: ToggleSetting) -> UserStyle:
        # Two taps arrive as two concurrent updates: change one user's settings in turn.
        async with self._locks[command.user_id]:
            return await self._toggle(command)

    async def _toggle(self, command: ToggleSetting) -> UserStyle:
        style = await self.of(command.user_id)
        if command.setting is Setting.YO:
            style = attrs.evolve(style, use_yo=not style.use_yo)
        elif command.setting is Setting.CODE:
            style = attrs.evolve(style, use_code_tags=not style.use_code_tags)
        else:
            flipped = (
                OutputMode.FILE if style.output is OutputMode.MESSAGES else OutputMode.MESSAGES
            )
            style = attrs.evolve(style, output=flipped)
        await self._repository.save(command.user_id, style)
        return style

    async def set_language(self, command: SetRecognitionLanguage) -> UserStyle:
        async with self._locks[command.user_id]:
            style = attrs.evolve(await self.of(command.user_id), language=command.language)
            await self._repository.save(command.user_id, style)
            return style
