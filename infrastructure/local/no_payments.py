"""The Stars gateway where there is no Telegram (the CLI): every payment call is refused."""

from __future__ import annotations

from application.errors import PaymentRefused


class NoPayments:
    async def send_invoice(
        self, chat_id: int, title: str, description: str, payload: str, stars: int
    ) -> None:
        raise PaymentRefused("payments need the Telegram bot", transient=False)

    async def refund(self, user_id: int, charge_id: str) -> None:
        raise PaymentRefused("payments need the Telegram bot", transient=False)
