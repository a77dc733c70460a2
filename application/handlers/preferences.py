"""Use cases: a user changes a preference (a setting of theirs); it applies to their next
recording."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import attrs

from application.commands import (
    SetOutput,
    SetRecognitionLanguage,
    SetSetting,
    Setting,
    ToggleSetting,
)
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
        flipped = not is_enabled(style, command.setting)
        return await self._set(command.user_id, style, command.setting, flipped)

    async def set(self, command: SetSetting) -> UserStyle:
        """Idempotent: a retried or repeated command leaves the setting where it says."""
        async with self._locks[command.user_id]:
            style = await self.of(command.user_id)
            return await self._set(command.user_id, style, command.setting, command.enabled)

    async def _set(
        self, user_id: int, style: UserStyle, setting: Setting, enabled: bool
    ) -> UserStyle:
        if setting is Setting.YO:
            style = attrs.evolve(style, use_yo=enabled)
        elif setting is Setting.CODE:
            style = attrs.evolve(style, use_code_tags=enabled)
        else:
            style = attrs.evolve(style, output=OutputMode.FILE if enabled else OutputMode.MESSAGES)
        await self._repository.save(user_id, style)
        return style

    async def set_output(self, command: SetOutput) -> UserStyle:
        """Idempotent, as ``set``: the mode chosen is the mode stored."""
        async with self._locks[command.user_id]:
            style = attrs.evolve(await self.of(command.user_id), output=command.mode)
            await self._repository.save(command.user_id, style)
            return style

    async def set_language(self, command: SetRecognitionLanguage) -> UserStyle:
        async with self._locks[command.user_id]:
            style = attrs.evolve(await self.of(command.user_id), language=command.language)
            await self._repository.save(command.user_id, style)
            return style


def is_enabled(style: UserStyle, setting: Setting) -> bool:
    """A two-valued setting as on or off (``OUTPUT`` is on when it is a .txt file)."""
    if setting is Setting.YO:
        return style.use_yo
    if setting is Setting.CODE:
        return style.use_code_tags
    return style.output is OutputMode.FILE
