"""Telegram Stars: invoices in ``XTR`` (no payment provider) and refunds."""

from __future__ import annotations

from telegram import Bot, LabeledPrice

from application.errors import DeliveryFailed, PaymentRefused
from domain.catalogue import STARS
from infrastructure.telegram.errors import call_telegram


class TelegramStarsGateway:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send_invoice(
        self, chat_id: int, title: str, description: str, payload: str, stars: int
    ) -> None:
        await call_telegram(
            lambda: self._bot.send_invoice(
                chat_id,
                title=title,
                description=description,
                payload=payload,
                currency=STARS,
                prices=[LabeledPrice(title, stars)],
            ),
            DeliveryFailed,
            "sendInvoice",
        )

    async def refund(self, user_id: int, charge_id: str) -> None:
        await call_telegram(
            lambda: self._bot.refund_star_payment(user_id, charge_id),
            PaymentRefused,
            "refundStarPayment",
        )
