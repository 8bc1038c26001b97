"""Money of orders: card payments online, refunds, hand-over payments, and keeping our rows in
step with the provider (webhooks, expiry, reconciliation). Re-exported by `ordering.services`.

The rule that keeps a customer from being charged twice: a `Payment` row with its idempotency
key is written *and committed* before the provider is called (transaction 1, under the order's
lock); the call runs outside any transaction; its answer is applied in transaction 2. The same
key twice, even at once, finds the first row (the unique key decides) and never calls again. An
answer that never came (a time-out) leaves the row "pending": the provider's webhook, the expiry
of unpaid orders or the reconciliation fetch the payment and settle it (`sync_payment`).

Refunds inside a cancellation or a change (`_refund_charges`) are written before their call too,
but in the caller's transaction: their keys are stable (order number, version, charge), so a
retried cancellation sends the same keys and the provider gives back the same refunds; the
reconciliation records any refund the provider made that we lost.
"""

import datetime
import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from menu.templatetags.menu_tags import euros
from stores.models import StorePage

from .exceptions import OrderError, PaymentError, TransitionError
from .models import MONEY, Order, Payment, PaymentReconciliation
from .payments import PaymentDeclined, ProviderResult, ProviderUnavailable, get_provider
from .payments.base import FAILED, PENDING, SUCCEEDED
from .transitions import (
    _bump,
    _email_on_commit,
    _event,
    _idempotency_key,
    _lock,
    _refuse_while_charge_pending,
    _synced,
    _user,
)

log = logging.getLogger(__name__)

Status = Order.Status
Method = Order.PaymentMethod
HAND_OVER_METHODS = (Method.CASH, Method.CARD_TERMINAL, Method.MEAL_VOUCHER, Method.CHEQUE)
CENT = Decimal("0.01")
REPAIRED, REPORTED = PaymentReconciliation.REPAIRED, PaymentReconciliation.REPORTED
# A pending refund without answer older than this is no longer in flight: the reconciliation
# settles it (the provider's answer to one request comes well within a minute, retries included).
UNANSWERED_REFUND_AGE = datetime.timedelta(minutes=5)
# How long the request of a charge may still be waiting for the provider's answer (its retries
# included): a webhook about it in that time leaves it to that request.
CHARGE_IN_FLIGHT = datetime.timedelta(minutes=2)


# Paying online ---------------------------------------------------------------------------------


def pay_order(order, *, source_token, idempotency_key, verification_token="", user=None, now=None):
    """Pay an order waiting for its card payment online, with the card token from the browser.

    `verification_token`: the buyer-verification (3-D Secure) token when the browser got one.
    Returns the Payment: "succeeded" (the order is then received and confirmed by e-mail),
    "failed" (declined: the French reason is in `payment.error`, the order still waits and the
    customer may try again with a new key until it expires), or "pending" (the provider did not
    answer in time or settles later: the order shows « paiement en cours de confirmation » until
    the webhook, the expiry or the reconciliation settles it).

    The same `idempotency_key` returns the same Payment without calling the provider again, also
    when two requests race. Raises TransitionError if the order is not waiting for a payment
    (already paid, expired, cancelled, a charge still pending), PaymentError if the provider
    refused the request without taking money (the row is then "failed").
    Call it outside any transaction: the row must be committed before the provider is called.
    """
    key = _idempotency_key(idempotency_key)
    now = now or timezone.now()
    payment, created = _open_charge(order, key=key, user=user, now=now)
    if not created:
        return _synced(order, Order.objects.get(pk=payment.order_id), payment)
    outcome = call_charge(payment, source_token=source_token, verification_token=verification_token)
    payment = _close_charge(order, payment, outcome, user=user, now=now)
    if isinstance(outcome, ProviderUnavailable) and not outcome.outcome_unknown:
        raise PaymentError(str(outcome))
    return payment


def _open_charge(order, *, key, user, now):
    """Transaction 1: the order checked under its lock and a pending charge committed with `key`.
    Returns (payment, created)."""
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_order(existing, order), False
    try:
        with transaction.atomic():
            locked = _lock(order)
            existing = Payment.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return _same_order(existing, order), False
            _require_payable(locked, now)
            return (
                Payment.objects.create(
                    order=locked,
                    kind=Payment.Kind.CHARGE,
                    method=Method.CARD_ONLINE,
                    provider=get_provider().name,
                    amount=locked.total,
                    status=Payment.Status.PENDING,
                    idempotency_key=key,
                    location_id=getattr(locked.store, "payment_location_id", "") or "",
                    created_by=_user(user),
                    created_at=now,
                    updated_at=now,
                ),
                True,
            )
    except IntegrityError:
        # The same key won a race the order's lock could not see (SQLite, another order).
        existing = Payment.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_order(existing, order), False


def _same_order(payment, order):
    if payment.order_id != order.pk:
        raise OrderError(_("Ce paiement ne correspond pas à cette commande."))
    return payment


def _require_payable(locked, now):
    if locked.payment_method != Method.CARD_ONLINE:
        raise TransitionError(_("Cette commande se règle à la livraison ou au retrait."))
    if locked.status != Status.PENDING_PAYMENT:
        if locked.status == Status.CANCELLED:
            raise TransitionError(_("Cette commande est annulée : elle ne peut plus être payée."))
        raise TransitionError(_("Cette commande est déjà payée."))
    if locked.expires_at is not None and now >= locked.expires_at:
        raise TransitionError(_("Le délai de paiement est dépassé : passez une nouvelle commande."))
    _refuse_while_charge_pending(locked)


@transaction.atomic
def _close_charge(order, payment, outcome, *, user, now):
    """Transaction 2: the provider's answer (a ProviderResult or the error it raised) applied."""
    locked = _lock(order)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.PENDING:
        return _synced(order, locked, payment)  # a webhook settled it meanwhile
    if isinstance(outcome, ProviderResult):
        _apply_charge_result(locked, payment, outcome, user=user, now=now)
        if payment.status == Payment.Status.PENDING:  # the provider settles it later
            _bump(locked, now=now)
            _event(
                locked,
                from_status=locked.status,
                user=user,
                now=now,
                note=_("Paiement en cours de confirmation"),
            )
    elif isinstance(outcome, PaymentDeclined):
        payment.status = Payment.Status.FAILED
        payment.error = str(outcome)[:255]
        payment.provider_reference = _free_reference(payment, outcome.reference)
        payment.raw_response = outcome.raw or {"code": outcome.code}
        payment.updated_at = now
        payment.save()
        _bump(locked, now=now)
        _event(
            locked,
            from_status=locked.status,
            user=user,
            now=now,
            note=_("Paiement refusé : %(reason)s") % {"reason": payment.error},
        )
    elif outcome.outcome_unknown:
        payment.error = str(outcome)[:255]
        payment.raw_response = outcome.raw or {}
        payment.updated_at = now
        payment.save()
        _bump(locked, now=now)
        _event(
            locked, from_status=locked.status, user=user, now=now, note=_("Paiement en cours de confirmation")
        )
    else:
        payment.status = Payment.Status.FAILED
        payment.error = str(outcome)[:255]
        payment.raw_response = outcome.raw or {}
        payment.updated_at = now
        payment.save()
    return _synced(order, locked, payment)


def _free_reference(payment, reference):
    """`reference` unless another row of the provider already holds it (it must stay unique)."""
    if not reference:
        return ""
    taken = (
        Payment.objects.filter(provider=payment.provider, provider_reference=reference)
        .exclude(pk=payment.pk)
        .exists()
    )
    return "" if taken else reference


def _apply_charge_result(locked, payment, result, *, user, now):
    """Bring the locked `payment` (a charge) to what the provider says; returns whether it changed.

    Succeeded: the order is received if it waited; a charge the order no longer needs (cancelled
    meanwhile, or paid twice) is refunded at once. Failed: the row is failed. A local "succeeded"
    or "failed" row is never turned around here (the reconciliation reports such a disagreement).
    """
    if payment.status != Payment.Status.PENDING:
        if payment.status != result.status:
            log.warning(
                "Payment %s is %s here but %s at %s: left for the reconciliation report.",
                result.reference,
                payment.status,
                result.status,
                payment.provider,
            )
        return False
    if result.reference and not payment.provider_reference:
        payment.provider_reference = _free_reference(payment, result.reference)
    payment.location_id = result.location_id or payment.location_id
    payment.raw_response = result.raw or payment.raw_response
    payment.updated_at = now
    if result.status == PENDING:
        payment.save()
        return False
    if result.status == FAILED:
        payment.status = Payment.Status.FAILED
        payment.error = payment.error or _("Le paiement a échoué chez le prestataire.")
        payment.save()
        _bump(locked, now=now)
        _event(locked, from_status=locked.status, user=user, now=now, note=_("Paiement échoué"))
        return True
    payment.status = Payment.Status.SUCCEEDED
    payment.error = ""
    payment.save()
    _charge_succeeded(locked, payment, user=user, now=now)
    return True


def _charge_succeeded(locked, payment, *, user, now):
    if locked.status == Status.PENDING_PAYMENT:
        from_status = locked.status
        locked.status = Status.RECEIVED
        locked.expires_at = None
        _bump(locked, now=now)
        _event(locked, from_status=from_status, user=user, now=now, note=_("Payée en ligne"))
        _email_on_commit(locked, "confirmation")
        return
    due = Decimal("0.00") if locked.status == Status.CANCELLED else locked.total
    excess = min(locked.paid_amount() - due, payment.amount)
    if excess > 0:
        reason = (
            _("Paiement reçu après l'annulation")
            if locked.status == Status.CANCELLED
            else _("Paiement reçu en double")
        )
        try:
            with transaction.atomic():
                _refund_charges(
                    locked, excess, reason=reason, user=None, now=now, charges=[payment], key_tag="auto"
                )
            note = _("%(reason)s : %(amount)s remboursés automatiquement")
        except PaymentError as refused:
            log.error("Automatic refund of order %s refused: %s", locked.number, refused)
            note = _("%(reason)s : remboursement automatique de %(amount)s refusé, à faire à la main")
        _bump(locked, now=now)
        _event(
            locked,
            from_status=locked.status,
            user=None,
            now=now,
            note=note % {"reason": reason, "amount": euros(excess)},
        )
    else:
        _bump(locked, now=now)
        _event(locked, from_status=locked.status, user=user, now=now, note=_("Paiement confirmé"))


# Refunds ---------------------------------------------------------------------------------------


def refund_order(order, *, amount=None, reason, user, idempotency_key, now=None):
    """A manager gives back `amount` (Decimal euros; None: all that is left) of what the order
    paid by card online, with a `reason` (required). Allowed in any status once paid.

    The refund rows (latest charge first) are committed before the provider is called. Returns
    them (succeeded, or pending when the provider settles later). The same `idempotency_key`
    returns the same rows without refunding again. Raises OrderError for a missing reason or an
    amount that is not positive or exceeds what can still be refunded; PaymentError (French) if
    the provider refuses (the row stays, "failed", for the record).
    """
    key = _idempotency_key(idempotency_key)
    now = now or timezone.now()
    reason = (reason or "").strip()[:200]
    if not reason:
        raise OrderError(_("Indiquez le motif du remboursement."))
    rows, created = _open_refunds(order, amount=amount, reason=reason, user=user, key=key, now=now)
    if not created:
        return rows
    outcomes = [(row, _call_refund(row)) for row in rows]
    rows = _close_refunds(order, outcomes, user=user, now=now)
    refused = [
        outcome
        for _row, outcome in outcomes
        if isinstance(outcome, PaymentDeclined)
        or (isinstance(outcome, ProviderUnavailable) and not outcome.outcome_unknown)
    ]
    if refused:
        raise PaymentError(
            _("Le remboursement a été refusé par le prestataire de paiement : %(reason)s")
            % {"reason": refused[0]}
        )
    return rows


def _refund_keys(order, key):
    charges = order.payments.filter(kind=Payment.Kind.CHARGE).values_list("pk", flat=True)
    return [f"{key}-{pk}" for pk in charges]


def _open_refunds(order, *, amount, reason, user, key, now):
    with transaction.atomic():
        locked = _lock(order)
        existing = list(Payment.objects.filter(order=locked, idempotency_key__in=_refund_keys(locked, key)))
        if existing:
            return existing, False
        refundable = _refundable(locked)
        if refundable <= 0:
            raise OrderError(_("Cette commande n'a rien à rembourser."))
        amount = refundable if amount is None else _money(amount)
        if amount is None or amount <= 0:
            raise OrderError(_("Indiquez un montant à rembourser valable."))
        if amount > refundable:
            raise OrderError(_("Vous pouvez rembourser au plus %(amount)s.") % {"amount": euros(refundable)})
        rows = [
            _refund_row(locked, charge, part, key=f"{key}-{charge.pk}", reason=reason, user=user, now=now)
            for charge, part in _split_over_charges(locked, amount)
        ]
        return rows, True


def _refund_row(order, charge, amount, *, key, reason, user, now):
    """A pending refund row of `amount` of `charge`, written with its key before the call."""
    return Payment.objects.create(
        order=order,
        kind=Payment.Kind.REFUND,
        method=charge.method,
        provider=charge.provider,
        amount=amount,
        status=Payment.Status.PENDING,
        idempotency_key=key,
        refunded_payment=charge,
        location_id=charge.location_id,
        reason=str(reason)[:200],
        created_by=_user(user),
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def _close_refunds(order, outcomes, *, user, now):
    locked = _lock(order)
    rows = []
    for row, outcome in outcomes:
        row = Payment.objects.select_for_update().get(pk=row.pk)
        if row.status == Payment.Status.PENDING:
            _apply_refund_outcome(row, outcome, now=now)
        rows.append(row)
    done = sum((row.amount for row in rows if row.status == Payment.Status.SUCCEEDED), Decimal("0.00"))
    waiting = sum((row.amount for row in rows if row.status == Payment.Status.PENDING), Decimal("0.00"))
    reason = rows[0].reason if rows else ""
    if done or waiting:
        _bump(locked, now=now)
        note = _("Remboursement de %(amount)s : %(reason)s") % {
            "amount": euros(done + waiting),
            "reason": reason,
        }
        _event(locked, from_status=locked.status, user=user, now=now, note=note)
    return rows


def _refundable(order):
    """What is left to give back of the order's succeeded card charges (pending refunds count)."""
    return order.refundable_amount()


def _charges_left(order, charges=None):
    """(charge, amount not yet given back) of the succeeded card charges, latest first."""
    if charges is None:
        charges = order.payments.filter(
            kind=Payment.Kind.CHARGE, status=Payment.Status.SUCCEEDED, method=Method.CARD_ONLINE
        ).order_by("-created_at", "-id")
    result = []
    for charge in charges:
        given = sum(
            (r.amount for r in charge.refunds.all() if r.status != Payment.Status.FAILED), Decimal("0.00")
        )
        if charge.amount - given > 0:
            result.append((charge, charge.amount - given))
    return result


def _split_over_charges(order, amount, charges=None):
    parts = []
    remaining = amount
    for charge, left in _charges_left(order, charges):
        if remaining <= 0:
            break
        part = min(left, remaining)
        parts.append((charge, part))
        remaining -= part
    return parts


def _call_refund(row):
    """Ask the provider to give back `row` (outside any transaction, or inside the caller's)."""
    provider = get_provider(row.provider)
    try:
        return provider.refund(
            payment_reference=row.refunded_payment.provider_reference,
            amount=row.amount,
            idempotency_key=row.idempotency_key,
            reason=row.reason,
        )
    except (PaymentDeclined, ProviderUnavailable) as error:
        return error


def _apply_refund_outcome(row, outcome, *, now):
    row.updated_at = now
    if isinstance(outcome, ProviderResult):
        row.provider_reference = _free_reference(row, outcome.reference) or row.provider_reference
        row.status = outcome.status
        row.raw_response = outcome.raw or {}
        row.location_id = outcome.location_id or row.location_id
    elif isinstance(outcome, PaymentDeclined):
        row.status = Payment.Status.FAILED
        row.error = str(outcome)[:255]
        row.raw_response = outcome.raw or {"code": outcome.code}
    else:
        row.status = Payment.Status.PENDING if outcome.outcome_unknown else Payment.Status.FAILED
        row.error = str(outcome)[:255]
        row.raw_response = outcome.raw or {}
    row.save()


def _refund_charges(order, amount, *, reason, user, now, charges=None, key_tag=""):
    """Give back `amount` of the order's card charges (latest first, or of `charges`) inside the
    caller's transaction (cancellation, change, a charge that came too late). Raises PaymentError
    if the provider refuses: the caller's transaction is then rolled back."""
    rows = []
    for charge, part in _split_over_charges(order, amount, charges):
        tag = f"-{key_tag}" if key_tag else ""
        row = _refund_row(
            order,
            charge,
            part,
            key=f"{order.number}-refund{tag}-v{order.version}-{charge.pk}",
            reason=reason,
            user=user,
            now=now,
        )
        outcome = _call_refund(row)
        if isinstance(outcome, PaymentDeclined):
            raise PaymentError(
                _("Le remboursement a été refusé par le prestataire de paiement : %(reason)s")
                % {"reason": outcome}
            )
        if isinstance(outcome, ProviderUnavailable) and not outcome.outcome_unknown:
            raise PaymentError(str(outcome))
        _apply_refund_outcome(row, outcome, now=now)
        rows.append(row)
    return rows


def _settle_difference(order, *, user=None, now):
    """Refund what the order's card holds beyond its new total (a change of a card-paid order,
    in the caller's transaction). A higher total is charged before the change by
    `open_difference_charge` / `close_difference_charge`; finding one here (the total moved
    between the two) refuses the change (PaymentError)."""
    paid = order.paid_amount()
    if paid == 0 and order.status == Status.PENDING_PAYMENT:
        return
    difference = order.total - paid
    if difference < 0:
        _refund_charges(order, -difference, reason=_("Commande modifiée"), user=user, now=now)
    elif difference > 0:
        raise PaymentError(_difference_message(difference))


def _difference_message(difference):
    return _(
        "Le nouveau total dépasse ce que vous avez payé : saisissez votre carte pour régler %(amount)s."
    ) % {"amount": euros(difference)}


def open_difference_charge(locked, *, new_total, source_token, user, now):
    """Step 1 of a change that raises a card-paid order's total (in the caller's transaction,
    which commits it): a pending charge of the difference, with its own key, or None when
    nothing is to be charged. PaymentError without a card token."""
    difference = new_total - locked.paid_amount()
    if locked.payment_method != Method.CARD_ONLINE or difference <= 0:
        return None
    if not source_token:
        raise PaymentError(_difference_message(difference))
    prefix = f"{locked.number}-charge-v{locked.version}-"
    attempt = Payment.objects.filter(order=locked, idempotency_key__startswith=prefix).count() + 1
    return Payment.objects.create(
        order=locked,
        kind=Payment.Kind.CHARGE,
        method=Method.CARD_ONLINE,
        provider=get_provider().name,
        amount=difference,
        status=Payment.Status.PENDING,
        idempotency_key=f"{prefix}{attempt}",
        location_id=getattr(locked.store, "payment_location_id", "") or "",
        created_by=_user(user),
        created_at=now,
        updated_at=now,
    )


def call_charge(payment, *, source_token, verification_token=""):
    """Step 2: ask the provider for the committed pending `payment` (outside any transaction).
    Returns its ProviderResult, or the PaymentDeclined / ProviderUnavailable it raised."""
    provider = get_provider(payment.provider)
    extra = {"verification_token": verification_token} if verification_token else {}
    try:
        return provider.charge(
            amount=payment.amount,
            source_token=source_token,
            idempotency_key=payment.idempotency_key,
            reference=payment.order.number,
            location_id=payment.location_id,
            **extra,
        )
    except (PaymentDeclined, ProviderUnavailable) as error:
        return error


def close_difference_charge(locked, payment, outcome, *, now):
    """Step 3 (in the caller's transaction, the order locked): the answer recorded on the locked
    difference `payment`. Returns None when it succeeded (the caller applies the change), else the
    PaymentError to raise once this transaction is committed: declined or refused (failed row),
    or not settled yet (pending row: if it succeeds later, the order holds more than its total and
    the difference is refunded automatically, see `_charge_succeeded`)."""
    if payment.status != Payment.Status.PENDING:  # settled meanwhile by a webhook
        return PaymentError(_("Le paiement de la différence a déjà été traité : vérifiez votre commande."))
    payment.updated_at = now
    if isinstance(outcome, ProviderResult) and outcome.status == SUCCEEDED:
        payment.status = Payment.Status.SUCCEEDED
        payment.provider_reference = _free_reference(payment, outcome.reference)
        payment.location_id = outcome.location_id or payment.location_id
        payment.raw_response = outcome.raw or {}
        payment.save()
        return None
    if isinstance(outcome, ProviderResult):
        payment.provider_reference = _free_reference(payment, outcome.reference)
        payment.raw_response = outcome.raw or {}
        payment.status = outcome.status
    elif isinstance(outcome, PaymentDeclined):
        payment.status = Payment.Status.FAILED
        payment.provider_reference = _free_reference(payment, outcome.reference)
        payment.raw_response = outcome.raw or {"code": outcome.code}
        payment.error = str(outcome)[:255]
    else:
        payment.status = Payment.Status.PENDING if outcome.outcome_unknown else Payment.Status.FAILED
        payment.raw_response = outcome.raw or {}
        payment.error = str(outcome)[:255]
    payment.save()
    if payment.status == Payment.Status.PENDING:
        return PaymentError(
            _(
                "Votre banque n'a pas encore confirmé le paiement de la différence : la commande n'est "
                "pas modifiée. Si ce paiement aboutit, il vous sera remboursé automatiquement."
            )
        )
    return PaymentError(payment.error or _("Le paiement a échoué chez le prestataire."))


def give_back_difference(locked, payment, *, now):
    """A difference charged for a change that could not be applied after all: refunded at once
    (in the caller's transaction). A refusal is logged and left to the reconciliation report."""
    try:
        with transaction.atomic():
            _refund_charges(
                locked,
                payment.amount,
                reason=_("Modification impossible"),
                user=None,
                now=now,
                charges=[payment],
                key_tag="undo",
            )
    except PaymentError as refused:
        log.error(
            "Refund of the unused difference %s of order %s refused: %s", payment.pk, locked.number, refused
        )


# Payments handed over --------------------------------------------------------------------------


@transaction.atomic
def record_payment(order, *, method, amount_received, user, now=None):
    """Staff record what the customer handed over for the order (cash, card terminal, meal
    voucher, cheque): a succeeded charge of the amount still due.

    `amount_received` (Decimal euros, as typed) must cover the amount due: cash may exceed it
    (the change given back is recorded), meal vouchers may exceed it (no change is given on
    vouchers), a card terminal or a cheque must match it. An order waiting for its card payment
    online becomes received. Refuses cancelled orders, orders already paid and orders whose card
    charge is still pending (OrderError / TransitionError, French). An event goes on the timeline.
    """
    now = now or timezone.now()
    locked = _lock(order)
    if method not in HAND_OVER_METHODS:
        raise OrderError(_("Choisissez le moyen de paiement remis."))
    if locked.status == Status.CANCELLED:
        raise TransitionError(_("Cette commande est annulée : elle ne peut plus être payée."))
    _refuse_while_charge_pending(locked)
    # What was charged, refunds not deducted: a refund gives money back, it is owed by no one.
    due = locked.amount_due()
    if due <= 0:
        raise TransitionError(_("Cette commande est déjà payée."))
    received = _money(amount_received)
    if received is None or received <= 0:
        raise OrderError(_("Indiquez le montant reçu."))
    if received < due:
        raise OrderError(_("Le montant reçu ne couvre pas les %(due)s dus.") % {"due": euros(due)})
    if received > due and method not in (Method.CASH, Method.MEAL_VOUCHER):
        raise OrderError(_("Le montant reçu doit être exactement de %(due)s.") % {"due": euros(due)})
    change = received - due if method == Method.CASH else Decimal("0.00")
    payment = Payment.objects.create(
        order=locked,
        kind=Payment.Kind.CHARGE,
        method=method,
        provider="on_delivery",
        amount=due,
        status=Payment.Status.SUCCEEDED,
        idempotency_key=f"{locked.number}-handover-v{locked.version}",
        amount_received=received,
        change_given=change,
        created_by=_user(user),
        created_at=now,
        updated_at=now,
    )
    from_status = locked.status
    if locked.status == Status.PENDING_PAYMENT:
        locked.status = Status.RECEIVED
        locked.expires_at = None
    note = _("Paiement reçu : %(amount)s (%(method)s)") % {
        "amount": euros(due),
        "method": Method(method).label.lower(),
    }
    if change:
        note += " " + _("– monnaie rendue %(change)s") % {"change": euros(change)}
    _bump(locked, now=now)
    _event(locked, from_status=from_status, user=user, now=now, note=note)
    if from_status == Status.PENDING_PAYMENT:
        _email_on_commit(locked, "confirmation")
    return _synced(order, locked, payment)


# The largest amount a money column holds (models.MONEY): 99 999 999,99 €.
MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]) - CENT


def _money(value):
    """`value` as Decimal euros with at most two decimals and within a money column, or None."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
        if not amount.is_finite() or abs(amount) > MAX_AMOUNT or amount != amount.quantize(CENT):
            return None
    except (InvalidOperation, ValueError):
        return None
    return amount.quantize(CENT)


# Keeping in step with the provider -------------------------------------------------------------


def sync_payment(provider_name, kind, reference, *, now=None):
    """Fetch the charge ("payment") or refund ("refund") `reference` from provider
    `provider_name` and bring our rows to it; returns the local Payment, or None when the object
    concerns no order of ours (logged, ignored). Idempotent: a replay changes nothing.

    A charge is found by its reference or, for a charge whose answer never came (a time-out),
    among the order's pending charges without reference by order number and amount; a charge of
    one of our orders with no row at all is recorded. Applying it: see `_apply_charge_result`
    (a charge succeeding for an order cancelled or expired meanwhile is refunded in full). The
    refunds the provider lists for the charge are recorded too. Raises ProviderUnavailable if
    the provider cannot be reached.
    """
    now = now or timezone.now()
    provider = get_provider(provider_name)
    if kind in ("payment", "charge"):
        result = provider.fetch_payment(reference)
        if result is None:
            log.info("Webhook or sync for a payment %s unknown to %s: ignored.", reference, provider_name)
            return None
        payment, _changed = _sync_charge(provider, result, now=now)
        if payment is not None:
            _sync_refunds_of(provider, result, now=now)
        return payment
    if kind == "refund":
        result = provider.fetch_refund(reference)
        if result is None:
            log.info("Webhook or sync for a refund %s unknown to %s: ignored.", reference, provider_name)
            return None
        return _sync_refund(provider, result, now=now)[0]
    log.info("Nothing to sync for a %r object (%s).", kind, reference)
    return None


def _sync_charge(provider, result, *, now):
    """(local charge or None, whether anything changed) after applying `result`."""
    known = Payment.objects.filter(
        provider=provider.name, kind=Payment.Kind.CHARGE, provider_reference=result.reference
    ).first()
    if known is not None:
        order = known.order
    else:
        order = (
            Order.objects.filter(number=result.order_reference).first() if result.order_reference else None
        )
    if order is None:
        log.info("Payment %s at %s matches no order of ours: ignored.", result.reference, provider.name)
        return None, False
    with transaction.atomic():
        locked = _lock(order)
        if known is not None:
            payment = Payment.objects.select_for_update().get(pk=known.pk)
        else:
            payment = (
                Payment.objects.select_for_update()
                .filter(
                    order=locked,
                    kind=Payment.Kind.CHARGE,
                    provider=provider.name,
                    status=Payment.Status.PENDING,
                    provider_reference="",
                    amount=result.amount,
                )
                .order_by("created_at", "id")
                .first()
            )
            if payment is not None and _answer_awaited(locked, payment, now):
                return payment, False
            if payment is None:
                if result.status == FAILED:
                    return None, False  # an attempt that took nothing: nothing to record
                payment = Payment.objects.create(
                    order=locked,
                    kind=Payment.Kind.CHARGE,
                    method=Method.CARD_ONLINE,
                    provider=provider.name,
                    amount=result.amount,
                    status=Payment.Status.PENDING,
                    idempotency_key=_recorded_key(provider, result),
                    provider_reference=result.reference,
                    location_id=result.location_id,
                    reason=_("Paiement trouvé chez le prestataire"),
                    created_at=result.created_at or now,
                    updated_at=now,
                )
        changed = _apply_charge_result(locked, payment, result, user=None, now=now)
        return payment, changed or known is None


def _answer_awaited(locked, payment, now):
    """Whether the request that sent the pending charge `payment` (of a received order: the
    difference of a change) is still waiting for its answer: it applies that answer itself (the
    change, then the charge). Settled from here, the difference would be refunded as money the
    order does not need, and the change refused. A request that got no answer marks its row (an
    error), and one older than the window is over: both are settled from here."""
    return (
        locked.status != Status.PENDING_PAYMENT
        and not payment.error
        and not payment.raw_response
        and now - payment.created_at < CHARGE_IN_FLIGHT
    )


def _recorded_key(provider, result):
    """The key of a row recorded from the provider's side (no request of ours made it)."""
    return f"{provider.name}-{result.reference}"[:100]


def _sync_refund(provider, result, *, now):
    """(local refund or None, whether anything changed) after applying `result`."""
    row = Payment.objects.filter(
        provider=provider.name, kind=Payment.Kind.REFUND, provider_reference=result.reference
    ).first()
    charge = None
    if row is None and result.payment_reference:
        charge = Payment.objects.filter(
            provider=provider.name, kind=Payment.Kind.CHARGE, provider_reference=result.payment_reference
        ).first()
    if row is None and charge is None:
        log.info("Refund %s at %s matches no payment of ours: ignored.", result.reference, provider.name)
        return None, False
    with transaction.atomic():
        locked = _lock(row.order if row is not None else charge.order)
        if row is not None:
            row = Payment.objects.select_for_update().get(pk=row.pk)
        else:
            row = (
                Payment.objects.select_for_update()
                .filter(
                    kind=Payment.Kind.REFUND,
                    refunded_payment=charge,
                    status=Payment.Status.PENDING,
                    provider_reference="",
                    amount=result.amount,
                )
                .order_by("created_at", "id")
                .first()
            )
            if row is None:
                if result.status == FAILED:
                    return None, False
                row = Payment.objects.create(
                    order=locked,
                    kind=Payment.Kind.REFUND,
                    method=charge.method,
                    provider=provider.name,
                    amount=result.amount,
                    status=Payment.Status.PENDING,
                    idempotency_key=_recorded_key(provider, result),
                    refunded_payment=charge,
                    provider_reference=result.reference,
                    location_id=result.location_id or charge.location_id,
                    reason=_("Remboursement fait chez le prestataire"),
                    created_at=result.created_at or now,
                    updated_at=now,
                )
        if row.status != Payment.Status.PENDING:
            if row.status != result.status:
                log.warning(
                    "Refund %s is %s here but %s at %s: left for the reconciliation report.",
                    result.reference,
                    row.status,
                    result.status,
                    provider.name,
                )
            return row, False
        _apply_refund_outcome(row, result, now=now)
        if row.status == Payment.Status.PENDING:
            return row, False
        _bump(locked, now=now)
        note = (
            _("Remboursement de %(amount)s confirmé")
            if row.status == Payment.Status.SUCCEEDED
            else _("Remboursement de %(amount)s échoué")
        )
        _event(
            locked, from_status=locked.status, user=None, now=now, note=note % {"amount": euros(row.amount)}
        )
        return row, True


def _sync_refunds_of(provider, result, *, now):
    """Record the refunds the provider lists for the charge `result` that we do not hold settled.
    Returns the refunds that changed."""
    settled = set(
        Payment.objects.filter(
            provider=provider.name,
            kind=Payment.Kind.REFUND,
            provider_reference__in=list(result.refund_references),
        )
        .exclude(status=Payment.Status.PENDING)
        .values_list("provider_reference", flat=True)
    )
    changed = []
    for reference in result.refund_references:
        if reference in settled:
            continue
        refund = provider.fetch_refund(reference)
        if refund is None:
            continue
        row, did_change = _sync_refund(provider, refund, now=now)
        if did_change:
            changed.append(row)
    return changed


def settle_pending_charge(payment, *, now=None, listed=None):
    """Settle a charge left "pending" (no answer, or a payment the provider settles later) by
    asking the provider; returns whether our rows changed. A charge without provider reference
    is looked for among the provider's payments (`listed`, else listed from its creation on) by
    order number and amount; none found once the payment window is over means the request never
    took money: the row is marked failed, so the order can expire. Raises ProviderUnavailable."""
    now = now or timezone.now()
    provider = get_provider(payment.provider)
    if payment.provider_reference:
        result = provider.fetch_payment(payment.provider_reference)
        if result is not None:
            return _sync_charge(provider, result, now=now)[1]
    else:
        if listed is None:
            listed = provider.list_payments(
                begin=payment.created_at - datetime.timedelta(minutes=5),
                end=now,
                location_id=payment.location_id,
            )
        for result in listed:
            if (
                result.order_reference == payment.order.number
                and result.amount == payment.amount
                and result.status != FAILED
                and not Payment.objects.filter(
                    provider=provider.name, provider_reference=result.reference
                ).exists()
            ):
                return _sync_charge(provider, result, now=now)[1]
    if now - payment.created_at < datetime.timedelta(minutes=settings.ORDER_PAYMENT_MINUTES):
        return False
    with transaction.atomic():
        locked = _lock(payment.order)
        row = Payment.objects.select_for_update().get(pk=payment.pk)
        if row.status != Payment.Status.PENDING:
            return False
        row.status = Payment.Status.FAILED
        row.error = _("Aucun paiement trouvé chez le prestataire.")
        row.updated_at = now
        row.save()
        _bump(locked, now=now)
        _event(locked, from_status=locked.status, user=None, now=now, note=_("Paiement échoué"))
    return True


def settle_pending_charges_of_expired_orders(*, now):
    """Before unpaid orders expire: settle their pending charges with the provider (a payment
    that did go through makes the order received instead). A provider that cannot be reached
    leaves them pending (they do not expire then). Returns how many charges changed."""
    changed = 0
    pending = Payment.objects.filter(
        kind=Payment.Kind.CHARGE,
        status=Payment.Status.PENDING,
        order__status=Status.PENDING_PAYMENT,
        order__expires_at__lte=now,
    ).select_related("order")
    for payment in list(pending):
        try:
            changed += settle_pending_charge(payment, now=now)
        except (ProviderUnavailable, ImproperlyConfigured) as error:
            log.warning(
                "Pending charge %s of order %s not settled: %s", payment.pk, payment.order.number, error
            )
    return changed


def reconcile_payments(*, days=7, now=None):
    """Compare the provider's payments of the last `days` days with our rows, repair what is
    safe to repair and report the rest; returns the saved PaymentReconciliation.

    Repaired: a charge taken by the provider with no row or a pending row here (recorded and
    applied: the order is received, or refunded if it no longer wants the money); refunds made
    at the provider and not recorded here (fetched one by one); charges left pending here
    (settled by fetching them; without a provider payment once the payment window is over:
    failed). Reported only: a charge succeeded here that the provider calls failed or does not
    know, a charge failed here that the provider took, amounts that differ, payments for no order
    of ours. Safe to run twice: the second run repairs nothing. Raises ProviderUnavailable.
    """
    now = now or timezone.now()
    begin = now - datetime.timedelta(days=days)
    provider = get_provider()
    listed, seen = [], set()
    for location in _provider_locations():
        for result in provider.list_payments(begin=begin, end=now, location_id=location):
            if result.reference not in seen:
                seen.add(result.reference)
                listed.append(result)
    findings = []
    for result in listed:
        findings += _reconcile_listed(provider, result, now=now)
    checked = len(listed)
    # Our charges in the window the listing did not show.
    missing = (
        Payment.objects.filter(provider=provider.name, kind=Payment.Kind.CHARGE, created_at__gte=begin)
        .exclude(provider_reference="")
        .exclude(provider_reference__in=seen)
        .exclude(status=Payment.Status.FAILED)
        .select_related("order")
    )
    for payment in list(missing):
        checked += 1
        result = provider.fetch_payment(payment.provider_reference)
        if result is None:
            if payment.status == Payment.Status.SUCCEEDED:
                findings.append(
                    _finding(
                        payment.order.number, payment.provider_reference, "unknown_at_provider", REPORTED
                    )
                )
            continue
        findings += _reconcile_listed(provider, result, now=now)
    # Charges pending here with no provider reference (no answer came) or older than the window.
    pending = Payment.objects.filter(
        provider=provider.name, kind=Payment.Kind.CHARGE, status=Payment.Status.PENDING
    ).select_related("order")
    for payment in list(pending):
        if payment.provider_reference and payment.created_at >= begin:
            continue  # fetched above
        checked += 1
        if settle_pending_charge(payment, now=now, listed=listed):
            payment.refresh_from_db()
            findings.append(
                _finding(
                    payment.order.number, payment.provider_reference, "charge_pending", REPAIRED, payment
                )
            )
    # Refunds pending here.
    for row in list(
        Payment.objects.filter(
            provider=provider.name, kind=Payment.Kind.REFUND, status=Payment.Status.PENDING
        )
        .exclude(provider_reference="")
        .select_related("order")
    ):
        checked += 1
        result = provider.fetch_refund(row.provider_reference)
        if result is not None and _sync_refund(provider, result, now=now)[1]:
            row.refresh_from_db()
            findings.append(
                _finding(row.order.number, row.provider_reference, "refund_pending", REPAIRED, row)
            )
    # Refunds pending here that never got an answer (the provider failed or did not answer in
    # time): matched among the charge's refunds, else sent again with the same key and amount.
    for row in list(
        Payment.objects.filter(
            provider=provider.name,
            kind=Payment.Kind.REFUND,
            status=Payment.Status.PENDING,
            provider_reference="",
            updated_at__lte=now - UNANSWERED_REFUND_AGE,
        ).select_related("order", "refunded_payment")
    ):
        checked += 1
        if _settle_unanswered_refund(provider, row, now=now):
            row.refresh_from_db()
            findings.append(
                _finding(row.order.number, row.provider_reference, "refund_pending", REPAIRED, row)
            )
    return PaymentReconciliation.objects.create(
        ran_at=now,
        days=days,
        checked=checked,
        repaired=sum(1 for finding in findings if finding["action"] == REPAIRED),
        findings=findings,
    )


def _settle_unanswered_refund(provider, row, *, now):
    """Settle the pending refund `row` that has no provider reference; returns whether it
    changed. The charge's refunds at the provider are recorded first (its answer may only have
    been lost); a refund still unmatched is asked again with its own key and amount, so the
    provider makes it at most once. Raises ProviderUnavailable if the provider cannot be reached."""
    charge = row.refunded_payment
    if charge is not None and charge.provider_reference:
        result = provider.fetch_payment(charge.provider_reference)
        if result is not None:
            _sync_refunds_of(provider, result, now=now)
            row.refresh_from_db()
            if row.status != Payment.Status.PENDING or row.provider_reference:
                return True
    if charge is None or not charge.provider_reference:
        return False
    outcome = _call_refund(row)
    if isinstance(outcome, ProviderUnavailable):
        if not outcome.outcome_unknown:
            raise outcome
        return False
    with transaction.atomic():
        locked = _lock(row.order)
        row = Payment.objects.select_for_update().get(pk=row.pk)
        if row.status != Payment.Status.PENDING or row.provider_reference:
            return False
        _apply_refund_outcome(row, outcome, now=now)
        if row.status == Payment.Status.PENDING:  # the provider settles it later, by reference
            return True
        _bump(locked, now=now)
        note = (
            _("Remboursement de %(amount)s confirmé")
            if row.status == Payment.Status.SUCCEEDED
            else _("Remboursement de %(amount)s échoué")
        )
        _event(
            locked, from_status=locked.status, user=None, now=now, note=note % {"amount": euros(row.amount)}
        )
    return True


def _provider_locations():
    locations = sorted(
        set(StorePage.objects.exclude(payment_location_id="").values_list("payment_location_id", flat=True))
    )
    return locations or [""]


def _reconcile_listed(provider, result, *, now):
    local = Payment.objects.filter(
        provider=provider.name, kind=Payment.Kind.CHARGE, provider_reference=result.reference
    ).first()
    findings = []
    if local is None or local.status == Payment.Status.PENDING:
        if result.status == PENDING:
            return findings
        if local is None and not Order.objects.filter(number=result.order_reference).exists():
            if result.status == SUCCEEDED:
                findings.append(_finding(result.order_reference, result.reference, "unknown_order", REPORTED))
            return findings
        payment, changed = _sync_charge(provider, result, now=now)
        if changed:
            recorded = payment.idempotency_key == _recorded_key(provider, result)
            problem = "charge_not_recorded" if recorded else "charge_pending"
            findings.append(_finding(payment.order.number, result.reference, problem, REPAIRED, payment))
        local = payment
    elif local.status == Payment.Status.SUCCEEDED and result.status == FAILED:
        findings.append(_finding(local.order.number, result.reference, "failed_at_provider", REPORTED))
    elif local.status == Payment.Status.FAILED and result.status == SUCCEEDED:
        findings.append(_finding(local.order.number, result.reference, "succeeded_at_provider", REPORTED))
    if local is None:
        return findings
    if local.status == Payment.Status.SUCCEEDED and local.amount != result.amount:
        findings.append(_finding(local.order.number, result.reference, "amount_differs", REPORTED))
    for row in _sync_refunds_of(provider, result, now=now):
        findings.append(
            _finding(local.order.number, row.provider_reference, "refund_not_recorded", REPAIRED, row)
        )
    return findings


def _finding(order_number, reference, problem, action, payment=None):
    details = {
        "charge_not_recorded": _("Paiement encaissé chez le prestataire, absent du site : enregistré."),
        "charge_pending": _("Paiement en attente sur le site, réglé d'après le prestataire."),
        "refund_not_recorded": _("Remboursement fait chez le prestataire, absent du site : enregistré."),
        "refund_pending": _("Remboursement en attente sur le site, réglé d'après le prestataire."),
        "unknown_order": _("Paiement encaissé chez le prestataire pour une commande inconnue du site."),
        "unknown_at_provider": _("Paiement réussi sur le site, inconnu du prestataire."),
        "failed_at_provider": _("Paiement réussi sur le site, échoué chez le prestataire."),
        "succeeded_at_provider": _("Paiement échoué sur le site, encaissé chez le prestataire."),
        "amount_differs": _("Le montant encaissé chez le prestataire diffère de celui du site."),
    }
    detail = str(details[problem])
    if payment is not None:
        detail += " " + _("État : %(status)s, %(amount)s.") % {
            "status": payment.get_status_display().lower(),
            "amount": euros(payment.amount),
        }
    return {
        "order": order_number,
        "payment": reference,
        "problem": problem,
        "detail": detail,
        "action": action,
    }
