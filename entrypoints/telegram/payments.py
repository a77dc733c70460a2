"""Buying minutes in the bot: package buttons, the invoice, the checkout, the payment.

The ``successful_payment`` handler is registered before every other message handler: in
the reference bot a generic branch caught it first and payments were never credited.

A paid charge must end credited and confirmed. Crediting is once per charge id, so when
crediting or the confirmation fails the handler raises and the inbox retries the update:
the retry credits nothing more and sends the confirmation, because this process remembers
the charges whose confirmation is still owed (a duplicate delivery of a payment that was
confirmed gets no second confirmation). The invoice is a button's whole effect, so the
callback's answer after it is cosmetic; a refusal's alert and the pre-checkout answer
raise when they fail, except that a retry finding the query answered already (Telegram's
400) has nothing left to do.

A payment that is not what its package costs (amount, currency, payload) is recorded
uncredited by ``Billing``, which alerts the owner with its charge id; the buyer is told
plainly that nothing was added, why, and that it will be refunded (the same retry rule).

Edits are not updates to act on: every handler here takes new messages only
(``filters.UpdateType.MESSAGE``), so an edited command does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
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
from application.handlers.billing import PaymentOutcome, Purchase
from domain.catalogue import PaymentProblem
from entrypoints.telegram.texts import text
from infrastructure.telegram.buy_buttons import BUY_PREFIX, buy_buttons

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


class PaymentHandlers:
    def __init__(self, app: UseCases) -> None:
        self._app = app
        self._unconfirmed: set[str] = set()  # charge ids whose confirmation is owed

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        """Register before the general handlers: in a group the first match wins."""
        new_only = filters.UpdateType.MESSAGE
        ptb.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT & new_only, self.on_paid))
        ptb.add_handler(PreCheckoutQueryHandler(self.on_checkout))
        ptb.add_handler(CommandHandler("buy_minutes", self.on_buy_minutes, filters=new_only))
        ptb.add_handler(CallbackQueryHandler(self.on_buy, pattern=f"^{BUY_PREFIX}"))

    async def on_buy_minutes(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        await message.reply_text(
            text("choose_package", user.language_code),
            reply_markup=buy_buttons(self._app.billing.packages, user.language_code),
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
            try:
                await query.answer()
            except TelegramError as error:
                log.info("invoice sent; its button's query not answered: %s", error)
        else:
            await _answered(query.answer(text(outcome.value, user.language_code), show_alert=True))

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
            await _answered(query.answer(ok=True))
        else:
            log.warning("checkout refused (%s): %r", refusal, query.invoice_payload)
            lang = query.from_user.language_code
            await _answered(query.answer(ok=False, error_message=text(refusal.value, lang)))

    async def on_paid(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.successful_payment is None:
            return
        payment = message.successful_payment
        charge_id = payment.telegram_payment_charge_id
        try:
            outcome = await self._app.bus.handle(
                CompletePayment(
                    buyer_id=user.id,
                    charge_id=charge_id,
                    payload=payment.invoice_payload,
                    currency=payment.currency,
                    total_amount=payment.total_amount,
                )
            )
        except Exception:
            self._unconfirmed.add(charge_id)  # credited or not, the retry confirms
            raise
        if outcome.problem is not None:
            await self._not_credited(message, user.language_code, outcome, charge_id)
            return
        if outcome.charge_minutes == 0 or (
            not outcome.credited and charge_id not in self._unconfirmed
        ):
            self._unconfirmed.discard(charge_id)
            return  # nothing credited to confirm, or a duplicate of a confirmed payment
        self._unconfirmed.add(charge_id)
        paid = text(
            "paid", user.language_code, minutes=outcome.charge_minutes, balance=outcome.balance
        )
        await message.reply_text(paid)  # raises: the retry sends it again
        self._unconfirmed.discard(charge_id)

    async def _not_credited(
        self, message: Message, language: str | None, outcome: PaymentOutcome, charge_id: str
    ) -> None:
        """Tell the buyer a payment was kept, not credited: the delivery that recorded it
        tells, a duplicate delivery does not, the retry of a telling that failed does."""
        stars = message.successful_payment.total_amount if message.successful_payment else 0
        if not outcome.first_seen and charge_id not in self._unconfirmed:
            return  # a duplicate delivery: the first one tells (or its retry does)
        self._unconfirmed.discard(charge_id)
        unrecognized = outcome.problem in (
            PaymentProblem.BAD_PAYLOAD,
            PaymentProblem.UNKNOWN_PACKAGE,
        )
        key = "payment_unrecognized" if unrecognized else "payment_not_credited"
        try:
            await message.reply_text(text(key, language, stars=stars, charge_id=charge_id))
        except Exception:
            self._unconfirmed.add(charge_id)  # the retry tells
            raise


async def _answered(answering: Coroutine[Any, Any, bool]) -> None:
    """Answer a query; a 400 (answered by an earlier try of this update, or too old) is
    logged, anything else raises so the update is retried."""
    try:
        await answering
    except BadRequest as error:
        log.warning("query not answered: %s", error)
