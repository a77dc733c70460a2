"""Use cases an update may run twice (the inbox retries an update whose reply failed):
the second run changes nothing and still knows what to answer."""

from __future__ import annotations

from application.commands import CompletePayment, SetSetting, Setting, ToggleSetting
from domain.jobs import OutputMode
from tests.application.conftest import World

USER = 21


async def test_setting_a_value_twice_leaves_it_set_where_a_toggle_would_flip_back(
    world: World,
) -> None:
    for _ in range(2):
        style = await world.app.bus.handle(SetSetting(USER, Setting.CODE, True))
        assert style.use_code_tags
    for _ in range(2):
        style = await world.app.bus.handle(SetSetting(USER, Setting.OUTPUT, True))
        assert style.output is OutputMode.FILE
    await world.app.bus.handle(SetSetting(USER, Setting.YO, False))
    stored = await world.app.preferences.of(USER)
    assert (stored.use_code_tags, stored.output, stored.use_yo) == (True, OutputMode.FILE, False)
    flipped = await world.app.bus.handle(ToggleSetting(USER, Setting.CODE))
    assert not flipped.use_code_tags, "the old flip still flips"


async def test_a_payment_handled_again_credits_nothing_and_names_what_the_charge_credited(
    world: World,
) -> None:
    paid = CompletePayment(USER, "charge-9", f"vs1:m50:{USER}", "XTR", 35)
    first = await world.app.bus.handle(paid)
    again = await world.app.bus.handle(paid)
    assert (first.credited, first.charge_minutes) == (True, 50)
    assert (again.credited, again.minutes, again.charge_minutes) == (False, 0, 50)
    assert again.balance == first.balance
