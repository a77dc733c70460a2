"""Buying minutes in the bot: package buttons, the invoice, the checkout, the payment.

The ``successful_payment`` handler is registered before every other message handler: in
the reference bot a generic branch caught it first and payments were never credited.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application as PtbApplication,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from application.bootstrap import UseCases
from application.commands import ApproveCheckout, BuyMinutes, CompletePayment
from application.handlers.billing import Purchase
from entrypoints.telegram.texts import text

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
BUY_PREFIX = "buy:"


class PaymentHandlers:
    def __init__(self, app: UseCases) -> None:
        self._app = app

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        """Register before the general handlers: in a group the first match wins."""
        ptb.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, self.on_paid))
        ptb.add_handler(PreCheckoutQueryHandler(self.on_checkout))
        ptb.add_handler(CommandHandler("buy_minutes", self.on_buy_minutes))
        ptb.add_handler(CallbackQueryHandler(self.on_buy, pattern=f"^{BUY_PREFIX}"))

    async def on_buy_minutes(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        rows = [
            [
                InlineKeyboardButton(
                    text("package", user.language_code, minutes=p.minutes, stars=p.stars),
                    callback_data=f"{BUY_PREFIX}{p.package_id}",
                )
            ]
            for p in self._app.billing.packages
        ]
        await message.reply_text(
            text("choose_package", user.language_code), reply_markup=InlineKeyboardMarkup(rows)
        )

    async def on_buy(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None:
            return
        if user is None or query.message is None or not (query.data or "").startswith(BUY_PREFIX):
            await query.answer()
            return
        package_id = (query.data or "").removeprefix(BUY_PREFIX)
        outcome = await self._app.bus.handle(
            BuyMinutes(user.id, query.message.chat.id, package_id, user.language_code)
        )
        if outcome is Purchase.INVOICE_SENT:
            await query.answer()
        else:
            await query.answer(text(outcome.value, user.language_code), show_alert=True)

    async def on_checkout(self, update: Update, context: Context) -> None:
        query = update.pre_checkout_query
        if query is None:
            return
        refusal = await self._app.bus.handle(
            ApproveCheckout(
                query.from_user.id, query.invoice_payload, query.currency, query.total_amount
            )
        )
        if refusal is None:
            await query.answer(ok=True)
        else:
            log.warning("checkout refused (%s): %r", refusal, query.invoice_payload)
            lang = query.from_user.language_code
            await query.answer(ok=False, error_message=text(refusal.value, lang))

    async def on_paid(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.successful_payment is None:
            return
        payment = message.successful_payment
        outcome = await self._app.bus.handle(
            CompletePayment(
                buyer_id=user.id,
                charge_id=payment.telegram_payment_charge_id,
                payload=payment.invoice_payload,
                currency=payment.currency,
                total_amount=payment.total_amount,
            )
        )
        if outcome.credited:
            await message.reply_text(
                text("paid", user.language_code, minutes=outcome.minutes, balance=outcome.balance)
            )
