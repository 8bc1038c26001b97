"""Orders, their lines, discounts, history and payments.

An order copies what it sold (product name, size, extras, unit price, VAT rate) so that editing
the menu never rewrites history: its links to the catalogue and to the store are `SET_NULL`.
Every change of an order goes through `ordering.services`, one function per transition, which
writes an `OrderEvent` and bumps `Order.version` (the tracking page's ETag).
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import connection, models
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from menu import rows

MONEY = {"max_digits": 10, "decimal_places": 2}  # up to 99 999 999,99 €: room for large baskets
ZERO = Decimal("0.00")


def new_secret():
    """The token of a guest's private link to their order."""
    return secrets.token_urlsafe(24)


class OrderQuerySet(models.QuerySet):
    def for_store(self, store):
        return self.filter(store=store)

    def open(self):
        """Orders still in progress (neither finished nor cancelled)."""
        return self.exclude(status__in=Order.FINISHED)

    def in_kitchen(self):
        return self.filter(status__in=[Order.Status.RECEIVED, Order.Status.PREPARING])

    def late(self, now):
        """Orders the store works on whose promised time has passed at `now`: neither finished
        (delivered, collected, cancelled) nor still waiting for their online payment (those
        are not the store's yet; `expire_unpaid_orders` ends them)."""
        return self.open().exclude(status=Order.Status.PENDING_PAYMENT).filter(promised_at__lt=now)

    def with_payment_state(self):
        """The orders annotated with `payment_state_value`: `Order.payment_state` computed in the
        database (subqueries), so that a list filters and pages on it in one query."""
        succeeded = Payment.objects.filter(order=OuterRef("pk"), status=Payment.Status.SUCCEEDED)

        def total(kind):
            amounts = (
                succeeded.filter(kind=kind).values("order").annotate(total=Sum("amount")).values("total")
            )
            return Coalesce(Subquery(amounts), Value(ZERO), output_field=DecimalField(**MONEY))

        pending_charge = Payment.objects.filter(
            order=OuterRef("pk"), kind=Payment.Kind.CHARGE, status=Payment.Status.PENDING
        )
        orders = self.annotate(
            charged_total=total(Payment.Kind.CHARGE),
            refunded_total=total(Payment.Kind.REFUND),
            has_pending_charge=Exists(pending_charge),
        )
        return orders.annotate(
            payment_state_value=Case(
                When(charged_total__lte=0, has_pending_charge=True, then=Value(Order.PaymentState.PENDING)),
                When(charged_total__lte=0, then=Value(Order.PaymentState.UNPAID)),
                When(refunded_total__gte=F("charged_total"), then=Value(Order.PaymentState.REFUNDED)),
                When(refunded_total__gt=0, then=Value(Order.PaymentState.PARTIALLY_REFUNDED)),
                default=Value(Order.PaymentState.PAID),
                output_field=CharField(),
            )
        )


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("En attente de paiement")
        RECEIVED = "received", _("Reçue")
        PREPARING = "preparing", _("En préparation")
        READY = "ready", _("Prête")
        OUT_FOR_DELIVERY = "out_for_delivery", _("En livraison")
        DELIVERED = "delivered", _("Livrée")
        COLLECTED = "collected", _("Retirée")
        CANCELLED = "cancelled", _("Annulée")

    class Fulfilment(models.TextChoices):
        DELIVERY = "delivery", _("Livraison")
        PICKUP = "pickup", _("À emporter")

    class PaymentMethod(models.TextChoices):
        CARD_ONLINE = "card_online", _("Carte bancaire en ligne")
        CASH = "cash", _("Espèces")
        CARD_TERMINAL = "card_terminal", _("Carte bancaire (terminal)")
        MEAL_VOUCHER = "meal_voucher", _("Titre-restaurant")
        CHEQUE = "cheque", _("Chèque")

    class Source(models.TextChoices):
        WEB = "web", _("Site web")
        PHONE = "phone", _("Téléphone")
        COUNTER = "counter", _("Comptoir")

    class PaymentState(models.TextChoices):
        UNPAID = "unpaid", _("Non payée")
        PENDING = "pending", _("Paiement en cours de confirmation")
        PAID = "paid", _("Payée")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partiellement remboursée")
        REFUNDED = "refunded", _("Remboursée")

    FINISHED = [Status.DELIVERED, Status.COLLECTED, Status.CANCELLED]

    number = models.CharField(_("numéro"), max_length=20, unique=True)
    store = models.ForeignKey(
        "stores.StorePage",
        verbose_name=_("point de vente"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    store_name = models.CharField(_("nom du point de vente"), max_length=255)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    secret = models.CharField(_("clé du lien privé"), max_length=64, default=new_secret, editable=False)
    contact_name = models.CharField(_("nom"), max_length=150)
    contact_phone = models.CharField(_("téléphone"), max_length=30)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    fulfilment = models.CharField(_("mode"), max_length=10, choices=Fulfilment.choices)
    street_address = models.CharField(_("adresse"), max_length=200, blank=True)
    postcode = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=80, blank=True)
    address_details = models.CharField(_("précisions"), max_length=200, blank=True)
    # Where the delivery address is, as geocoded once at placing (empty for pickup).
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    asap = models.BooleanField(_("dès que possible"), default=True)
    promised_at = models.DateTimeField(_("heure promise"))
    slot_start = models.DateTimeField(_("début du créneau"), null=True, blank=True, db_index=True)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices, db_index=True)
    payment_method = models.CharField(_("paiement"), max_length=20, choices=PaymentMethod.choices)
    source = models.CharField(_("origine"), max_length=10, choices=Source.choices, default=Source.WEB)
    subtotal = models.DecimalField(_("sous-total"), **MONEY, default=ZERO)
    discount_total = models.DecimalField(_("remises"), **MONEY, default=ZERO)
    delivery_fee = models.DecimalField(_("frais de livraison"), **MONEY, default=ZERO)
    total = models.DecimalField(_("total TTC"), **MONEY, default=ZERO)
    promotion_code = models.CharField(_("code promotionnel"), max_length=40, blank=True)
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=64, unique=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("passée le"), db_index=True)
    updated_at = models.DateTimeField(_("modifiée le"))
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True, db_index=True)
    cancel_reason = models.CharField(_("motif d'annulation"), max_length=200, blank=True)
    # The driver taking a delivery (`assign_driver`): someone with a driver's membership in the store.
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("livreur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-created_at", "-id"]
        # The staff screens (ordering.access.screen_stores): which screen a role opens.
        permissions = [
            ("take_orders", _("Prendre les commandes par téléphone et au comptoir")),
            ("use_kitchen_board", _("Utiliser l'écran cuisine")),
            ("use_delivery_board", _("Utiliser l'écran des livraisons")),
        ]
        # The boards and their polls read a store's open orders (`boards.board_state`): without it
        # PostgreSQL intersects every open order of the chain with the store's whole history.
        indexes = [models.Index(fields=["store", "status"], name="order_store_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="ordering_order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0), name="ordering_order_subtotal_not_negative"
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        if self.customer_id:
            return reverse("ordering:order_detail", kwargs={"number": self.number})
        return reverse("ordering:order_detail_guest", kwargs={"number": self.number, "secret": self.secret})

    @property
    def can_change(self):
        """The customer may change or cancel the order until the kitchen starts it."""
        return self.status == self.Status.RECEIVED

    @property
    def is_paid_online(self):
        return self.payment_method == self.PaymentMethod.CARD_ONLINE

    @property
    def is_delivery(self):
        return self.fulfilment == self.Fulfilment.DELIVERY

    @property
    def full_address(self):
        return f"{self.street_address}, {self.postcode} {self.city}" if self.street_address else ""

    def cart_lines(self):
        """The order's lines as cart lines (ids only) to order again: lines whose product or size
        left the catalogue are left out, and so are options that no longer exist (one query)."""
        from menu.models import ProductExtra

        from .pricing import CartLine

        lines = [line for line in self.lines.all() if line.product_id and line.size_id]
        wanted = {extra["id"] for line in lines for extra in line.extras}
        existing = set(
            ProductExtra.objects.filter(id__in=wanted).values_list("id", "product_id") if wanted else []
        )
        return [
            CartLine(
                size_id=line.size_id,
                quantity=line.quantity,
                extra_ids=tuple(
                    sorted({e["id"] for e in line.extras if (e["id"], line.product_id) in existing})
                ),
            )
            for line in lines
        ]

    def vat_breakdown(self):
        """VAT included in the total, per rate (list of VatLine), from the stored lines and discounts."""
        from .pricing import vat_lines

        amounts = [(line.vat_rate, line.total) for line in self.lines.all()]
        amounts += [(discount.vat_rate, -discount.amount) for discount in self.discounts.all()]
        if self.delivery_fee:
            amounts.append((DELIVERY_VAT_RATE, self.delivery_fee))
        return vat_lines(amounts)

    def paid_amount(self):
        """What the order's payments hold: succeeded charges minus succeeded refunds."""
        return self.charged_amount() - self.refunded_amount()

    def charged_amount(self):
        """The sum of the order's succeeded charges (online and handed over)."""
        return _succeeded_sum(self.payments.all(), Payment.Kind.CHARGE)

    def refunded_amount(self):
        """The sum of the order's succeeded refunds."""
        return _succeeded_sum(self.payments.all(), Payment.Kind.REFUND)

    def refundable_amount(self):
        """What may still be given back of the order's card payments online: succeeded charges
        minus the refunds not failed (a pending refund is already promised). No query with
        `prefetch_related("payments")`."""
        total = ZERO
        for payment in self.payments.all():
            if payment.method != self.PaymentMethod.CARD_ONLINE:
                continue
            if payment.kind == Payment.Kind.CHARGE and payment.status == Payment.Status.SUCCEEDED:
                total += payment.amount
            elif payment.kind == Payment.Kind.REFUND and payment.status != Payment.Status.FAILED:
                total -= payment.amount
        return max(total, ZERO)

    def amount_due(self):
        """What the order still owes: its total minus what was charged. Refunds are not deducted:
        a refund gives money back, the customer does not owe it again. Nothing once cancelled."""
        if self.status == self.Status.CANCELLED:
            return ZERO
        return max(self.total - self.charged_amount(), ZERO)

    @property
    def payment_state(self):
        """Where the order's money stands, one of `PaymentState` (what the customer's page shows).
        One query, none with `prefetch_related("payments")`."""
        payments = list(self.payments.all())
        charged = _succeeded_sum(payments, Payment.Kind.CHARGE)
        refunded = _succeeded_sum(payments, Payment.Kind.REFUND)
        if charged <= 0:
            pending = any(
                p.kind == Payment.Kind.CHARGE and p.status == Payment.Status.PENDING for p in payments
            )
            return self.PaymentState.PENDING if pending else self.PaymentState.UNPAID
        if refunded >= charged:
            return self.PaymentState.REFUNDED
        if refunded > 0:
            return self.PaymentState.PARTIALLY_REFUNDED
        return self.PaymentState.PAID

    def get_payment_state_display(self):
        return self.PaymentState(self.payment_state).label


def _succeeded_sum(payments, kind):
    return sum((p.amount for p in payments if p.kind == kind and p.status == Payment.Status.SUCCEEDED), ZERO)


# A delivery fee follows the main service (meals): 10 %.
DELIVERY_VAT_RATE = Decimal("10.00")


class OrderLine(models.Model):
    """What was sold, as it was sold: the catalogue links are kept only to order again."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "menu.ProductPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    size = models.ForeignKey(
        "menu.ProductSize", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_name = models.CharField(_("produit"), max_length=255)
    size_name = models.CharField(_("taille"), max_length=40)
    category = models.CharField(_("catégorie"), max_length=10, blank=True)
    extras = models.JSONField(_("options"), default=list, blank=True)  # [{"id", "name", "kind", "price"}]
    quantity = models.PositiveIntegerField(_("quantité"))
    unit_price = models.DecimalField(_("prix unitaire TTC"), **MONEY)  # extras included
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=4, decimal_places=2)
    total = models.DecimalField(_("total TTC"), **MONEY)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ligne de commande")
        verbose_name_plural = _("lignes de commande")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="ordering_orderline_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name} ({self.size_name})"

    @property
    def extra_names(self):
        return [extra["name"] for extra in self.extras]


class OrderDiscount(models.Model):
    """A promotion applied to the order, shown as a discount line (amount > 0 is taken off)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discounts")
    label = models.CharField(_("libellé"), max_length=200)
    amount = models.DecimalField(_("montant TTC"), **MONEY)
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=4, decimal_places=2)
    promotion_id = models.PositiveIntegerField(_("promotion"), null=True, blank=True)

    class Meta:
        verbose_name = _("remise")
        verbose_name_plural = _("remises")
        ordering = ["id"]

    def __str__(self):
        return f"{self.label} (−{self.amount} €)"


class OrderEvent(models.Model):
    """One change of an order: its status (from, to), who and when, and a note."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("état avant"), max_length=20, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(_("état après"), max_length=20, choices=Order.Status.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("date"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("événement de commande")
        verbose_name_plural = _("événements de commande")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status or '—'} → {self.to_status}"


class Payment(models.Model):
    """One attempt to move money for an order (a charge or a refund) through a provider."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Paiement")
        REFUND = "refund", _("Remboursement")

    class Status(models.TextChoices):
        PENDING = "pending", _("En cours")
        SUCCEEDED = "succeeded", _("Réussi")
        FAILED = "failed", _("Échoué")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    method = models.CharField(_("moyen"), max_length=20, choices=Order.PaymentMethod.choices)
    provider = models.CharField(_("prestataire"), max_length=30)
    amount = models.DecimalField(_("montant"), **MONEY)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=100, unique=True)
    refunded_payment = models.ForeignKey(
        "self",
        verbose_name=_("paiement remboursé"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    provider_reference = models.CharField(_("référence du prestataire"), max_length=100, blank=True)
    location_id = models.CharField(_("emplacement du prestataire"), max_length=64, blank=True)
    error = models.CharField(_("erreur"), max_length=255, blank=True)
    reason = models.CharField(_("motif"), max_length=200, blank=True)
    raw_response = models.JSONField(_("réponse du prestataire"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Hand-over payments: what the customer gave and the change given back (cash).
    amount_received = models.DecimalField(_("montant reçu"), **MONEY, null=True, blank=True)
    change_given = models.DecimalField(_("monnaie rendue"), **MONEY, null=True, blank=True)
    created_at = models.DateTimeField(_("date"))
    updated_at = models.DateTimeField(_("mis à jour le"), default=timezone.now)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ordering_payment_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~models.Q(provider_reference=""),
                name="ordering_payment_provider_reference_unique",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} € ({self.get_status_display()})"


class RefundManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Payment.Kind.REFUND)


class Refund(Payment):
    """The refunds among the payments (kind "refund"), for the admin and the reports."""

    objects = RefundManager()

    class Meta:
        proxy = True
        verbose_name = _("remboursement")
        verbose_name_plural = _("remboursements")


class WebhookDelivery(models.Model):
    """A provider notification already handled: its event id is unique, so a replay is ignored."""

    provider = models.CharField(_("prestataire"), max_length=30)
    event_id = models.CharField(_("identifiant de l'événement"), max_length=200, unique=True)
    event_type = models.CharField(_("type"), max_length=60, blank=True)
    object_id = models.CharField(_("objet"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("reçu le"))

    class Meta:
        verbose_name = _("notification de paiement")
        verbose_name_plural = _("notifications de paiement")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class PaymentReconciliation(models.Model):
    """One run of `reconcile_payments`: how many provider payments it checked, how many local
    rows it repaired, and its findings, each a dict {"order": number, "payment": provider
    reference, "problem": code, "detail": French text, "action": "repaired" | "reported"}."""

    REPAIRED, REPORTED = "repaired", "reported"

    ran_at = models.DateTimeField(_("date"), db_index=True)
    days = models.PositiveIntegerField(_("jours examinés"))
    checked = models.PositiveIntegerField(_("paiements vérifiés"), default=0)
    repaired = models.PositiveIntegerField(_("corrections"), default=0)
    findings = models.JSONField(_("constats"), default=list, blank=True)

    class Meta:
        verbose_name = _("rapprochement des paiements")
        verbose_name_plural = _("rapprochements des paiements")
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"{self.ran_at:%Y-%m-%d %H:%M}: {self.checked} / {self.repaired}"

    @property
    def reported(self):
        """The findings left to a person (nothing was changed for them)."""
        return [finding for finding in self.findings if finding.get("action") == self.REPORTED]


class OrderNumberCounter(models.Model):
    """The last order number given by a store (its prefix) on a calendar day (MMDD).

    Incremented under a row lock inside the placing transaction (`take_order_number`), so two
    orders placed at once never share a number. The count of a day goes on from the same day of
    past years, so a number is never given twice (the stock ledger names orders by number).
    """

    prefix = models.CharField(max_length=10)
    day = models.CharField(max_length=4)  # "1129"
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="ordering_counter_unique")]

    def __str__(self):
        return f"{self.prefix}-{self.day}: {self.last}"


# Every order asks these one-row statements. They are written by hand: the ORM took longer
# to build each one than PostgreSQL took to run it (docs/performance.md, "an order's own CPU").
# Names come from the models' options, quoted; every value is a parameter.


def order_for_key(key):
    """The order placed with the idempotency `key`, or None.

    A checkout asks once per order (before the cart, `place_order` is then told it did) and nearly
    always finds nothing: the id is looked up alone, the order read only when there is one.

    The key is stripped, as the checkout's form and `place_order` strip it: a key posted with a
    space around it is the same key, and must find the same order (whose owner is then checked).
    """
    key = key.strip() if isinstance(key, str) else ""
    if not key:
        return None
    table, id_, key_ = rows.names(Order, "id", "idempotency_key")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {id_} FROM {table} WHERE {key_} = %s", [key])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else Order.objects.filter(pk=row[0]).first()


def locked_counter(prefix, day):
    """The counter of `prefix` on `day` (a date), locked until the end of the transaction.

    The placing lock: orders of a store on a day are placed (and moved to another slot) one at a
    time, which keeps slot capacities exact under concurrency. Placing takes it with its number
    (`take_order_number`); moving an order takes it here.
    """
    lock = rows.for_update("locked_counter()")
    key = day.strftime("%m%d")
    locked = _locked_counter_row(prefix, key, lock)
    if locked is not None:
        return locked
    OrderNumberCounter.objects.get_or_create(prefix=prefix, day=key)  # the day's first order
    return _locked_counter_row(prefix, key, lock)


def _locked_counter_row(prefix, key, lock):
    """SELECT … FOR UPDATE (`lock`, `rows.for_update`) of one counter."""
    table, id_, last, prefix_, day = rows.names(OrderNumberCounter, "id", "last", "prefix", "day")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {id_}, {last} FROM {table} WHERE {prefix_} = %s AND {day} = %s{lock}",  # noqa: S608
            [prefix, key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return OrderNumberCounter(id=row[0], prefix=prefix, day=key, last=row[1])


def take_order_number(prefix, day):
    """The next number for `prefix` on `day` (a date), taken by one UPDATE that also locks the
    day's counter until the end of the transaction: the lock and the number in one round trip
    (placing an order holds the store's placing lock from here to its commit).

    Call inside a transaction, as the first statement of what must be serialised. A transaction
    rolled back (an order refused, or sent twice at once) gives its number back: the next order
    takes it."""
    rows.require_transaction("take_order_number()")
    key = day.strftime("%m%d")
    taken = _increment_counter(prefix, key)
    if taken is None:
        OrderNumberCounter.objects.get_or_create(prefix=prefix, day=key)  # the day's first order
        taken = _increment_counter(prefix, key)
    return f"{prefix}-{key}-{taken:03d}"


def take_store_order_number(store_id, day):
    """`take_order_number` for the store's saved prefix, read by the very statement that takes the
    lock and the number (PostgreSQL, a subquery): one round trip, and no moment between reading the
    prefix and locking its counter. None when the store has no saved settings, no counter for
    `day` yet (its first order of the day), or on another database: the caller then reads the
    settings (`stores.services.saved_ordering_settings`, which saves them) and calls
    `take_order_number`.

    The settings row is read, not locked: as when it is read by a statement of its own just before,
    an order placed while head office commits a new prefix may lock the old prefix's counter while
    the next one locks the new one's (docs/architecture.md)."""
    rows.require_transaction("take_store_order_number()")
    if connection.vendor != "postgresql":
        return None
    from stores.models import StoreOrderingSettings  # stores sits below ordering

    key = day.strftime("%m%d")
    table, last, prefix_, day_ = rows.names(OrderNumberCounter, "last", "prefix", "day")
    settings_table, order_prefix, store_ = rows.names(StoreOrderingSettings, "order_prefix", "store")
    # The prefix as a scalar subquery: PostgreSQL plans it faster than a join (`UPDATE … FROM`),
    # 0.24 against 0.31 ms with the BEGIN before it, against 0.21 for the counter alone.
    prefix_of_store = f"(SELECT {order_prefix} FROM {settings_table} WHERE {store_} = %s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 "  # noqa: S608
            f"WHERE {prefix_} = {prefix_of_store} AND {day_} = %s RETURNING {prefix_}, {last}",
            [store_id, key],
        )
        row = cursor.fetchone()
    return None if row is None else f"{row[0]}-{key}-{row[1]:03d}"


def _increment_counter(prefix, key):
    """`last + 1` written and returned (None: no counter for that prefix and day yet). Read back
    by a second statement where UPDATE … RETURNING is unknown (SQLite before 3.35): the row is
    locked (SQLite: the database) by the UPDATE until the end of the transaction."""
    table, last, prefix_, day = rows.names(OrderNumberCounter, "last", "prefix", "day")
    where = f"WHERE {prefix_} = %s AND {day} = %s"
    returning = connection.features.can_return_rows_from_bulk_insert
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 {where}" + (f" RETURNING {last}" if returning else ""),  # noqa: S608
            [prefix, key],
        )
        if not returning:
            if cursor.rowcount == 0:
                return None
            cursor.execute(f"SELECT {last} FROM {table} {where}", [prefix, key])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else row[0]
