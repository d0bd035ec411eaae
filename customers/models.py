"""The customer register: people, organisations, orders, objections, consents, disclosures.

Privacy notice clauses (DESIGN.md): S2 purposes, S6/S17 objections, S7 content,
S8 sources, S9 disclosures.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, ExtractYear, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField

from .validators import validate_business_id, validate_finnish_postal_code, validate_name_characters


class Source(models.TextChoices):
    """Where data came from (S8). Every customer and every change records one."""

    SHOP_PURCHASE = "shop_purchase", _("Purchase in a shop")
    WEB_SHOP = "web_shop", _("Web shop")
    RESELLER = "reseller", _("Reseller")
    REGISTRATION = "registration", _("Registration")
    CUSTOMER_NOTICE = "customer_notice", _("Notice from the customer")
    ADDRESS_UPDATE = "address_update", _("Address-update service")
    SUBCONTRACTOR = "subcontractor", _("Subcontractor")
    IMPORT = "import", _("Import")
    DATA_SUBJECT_REQUEST = "data_subject_request", _("Data subject request")


class Language(models.TextChoices):
    FINNISH = "fi", _("Finnish")
    ENGLISH = "en", _("English")
    SWEDISH = "sv", _("Swedish")


class AgeBand(models.TextChoices):
    """Age bands for statistics (S3); they survive anonymisation."""

    UNDER_25 = "under_25", _("under 25")
    AGE_25_34 = "25_34", _("25–34")
    AGE_35_44 = "35_44", _("35–44")
    AGE_45_54 = "45_54", _("45–54")
    AGE_55_64 = "55_64", _("55–64")
    AGE_65_PLUS = "65_plus", _("65 or over")


# (band, lowest age, highest age); None means open-ended.
AGE_BAND_LIMITS: tuple[tuple[str, int, int | None], ...] = (
    (AgeBand.UNDER_25, 0, 24),
    (AgeBand.AGE_25_34, 25, 34),
    (AgeBand.AGE_35_44, 35, 44),
    (AgeBand.AGE_45_54, 45, 54),
    (AgeBand.AGE_55_64, 55, 64),
    (AgeBand.AGE_65_PLUS, 65, None),
)


def age_band_for(age: int | None) -> str | None:
    if age is None:
        return None
    for band, low, high in AGE_BAND_LIMITS:
        if age >= low and (high is None or age <= high):
            return band
    return None


class Organisation(models.Model):
    """An organisation a customer represents (S7: "edustamansa yhteisö")."""

    name = models.CharField(_("name"), max_length=200)
    business_id = models.CharField(
        _("business ID"),
        max_length=9,
        blank=True,
        validators=[validate_business_id],
        help_text=_("Finnish business ID (Y-tunnus), e.g. 1234567-8; checksum validated."),
    )
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FI")
    source = models.CharField(
        _("source"),
        max_length=32,
        choices=Source.choices,
        default=Source.REGISTRATION,
        help_text=_("Where the organisation's data came from (privacy notice: sources)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    anonymised_at = models.DateTimeField(
        _("anonymised"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when the organisation was anonymised: its name, business ID and address were "
            "removed and its people detached (they and their orders stay)."
        ),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_id"],
                condition=~Q(business_id=""),
                name="organisation_business_id_unique",
                violation_error_message=_("An organisation with this business ID exists."),
            )
        ]

    def __str__(self) -> str:
        if self.anonymised_at:
            return _("Anonymised organisation #%(pk)s") % {"pk": self.pk}
        return self.name

    def clean(self) -> None:
        super().clean()
        self.country = (self.country or "").upper()
        if self.country == "FI" and self.postal_code:
            try:
                validate_finnish_postal_code(self.postal_code)
            except ValidationError as error:
                raise ValidationError({"postal_code": error}) from None


class CustomerQuerySet(models.QuerySet):
    def not_anonymised(self) -> CustomerQuerySet:
        return self.filter(anonymised_at__isnull=True)

    def objecting_to(self, *purposes: str) -> CustomerQuerySet:
        """Customers with an objection in force to any of `purposes` (S17)."""
        return self.filter(
            Exists(MarketingObjection.objects.in_force(*purposes).filter(customer=OuterRef("pk")))
        )

    def contactable(self, *purposes: str) -> CustomerQuerySet:
        """Who may be contacted for every one of `purposes`, in one query.

        Leaves out anonymised customers and anyone with an objection in force
        to any of the purposes (S6, S17; GDPR art. 21(3): an objection to
        direct marketing is absolute).
        """
        if not purposes:
            raise ValueError("Name at least one purpose.")
        return self.not_anonymised().exclude(
            Exists(MarketingObjection.objects.in_force(*purposes).filter(customer=OuterRef("pk")))
        )

    def email_marketable(self) -> CustomerQuerySet:
        """Customers who gave prior consent to e-mail marketing and did not object.

        E-mail marketing to consumers needs prior consent (Information Society
        Code 917/2014, section 200).
        """
        consent = EmailMarketingConsent.objects.in_force().filter(customer=OuterRef("pk"))
        return self.contactable(ObjectionPurpose.DIRECT_MARKETING).exclude(email="").filter(Exists(consent))

    def with_open_invoices(self) -> CustomerQuerySet:
        return self.filter(Exists(Order.objects.unsettled().filter(customer=OuterRef("pk"))))

    def with_last_activity(self) -> CustomerQuerySet:
        """Annotate `last_activity`: the latest of the customer's own activity (S19; GDPR
        art. 5(1)(e)), which the retention period counts from. Derived at every reading
        from what the register holds, so no operation can forget to move it: the
        contact recorded on the customer (creation, a call, a visit), their orders' dates,
        their data requests (submitted, closed), every change of their data (staff edits,
        imports, rectifications), and the objections and consents they gave or withdrew.
        A ban register's or a suppression's objection is not the customer's doing."""
        own = F("last_activity_at")
        latest = [Coalesce(newest, own, output_field=DateTimeField()) for newest in _activity_subqueries()]
        return self.annotate(last_activity=Greatest(own, *latest, output_field=DateTimeField()))

    def inactive_since(self, cutoff: datetime.datetime) -> CustomerQuerySet:
        """Customers with no activity at all since `cutoff` (see with_last_activity)."""
        return self.with_last_activity().filter(last_activity__lt=cutoff)

    def in_age_band(self, band: str, *, today: datetime.date | None = None) -> CustomerQuerySet:
        today = today or timezone.localdate()
        for name, low, high in AGE_BAND_LIMITS:
            if name == band:
                # age = today.year - birth_year (to within a year, which is all a band needs)
                lookup = Q(birth_year__lte=today.year - low)
                if high is not None:
                    lookup &= Q(birth_year__gte=today.year - high)
                return self.filter(lookup)
        raise ValueError(f"Unknown age band {band!r}")


class Customer(models.Model):
    """A person in the register (S7 content, S8 source)."""

    first_name = models.CharField(_("first name"), max_length=100, validators=[validate_name_characters])
    last_name = models.CharField(_("last name"), max_length=100, validators=[validate_name_characters])
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation represented"),
        related_name="people",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        # An anonymised organisation has no people: nobody is linked to it again.
        limit_choices_to={"anonymised_at__isnull": True},
    )
    # Indexed in Meta.indexes: db_index=True would also give each of these a second,
    # LIKE-pattern index on PostgreSQL that no query uses (searches use the trigram
    # indexes of migration 0003), and every insert or update pays for it.
    email = models.EmailField(_("e-mail"), blank=True)
    phone = PhoneNumberField(
        _("phone"),
        blank=True,
        help_text=_("Stored in international E.164 form; a Finnish number may be typed as 040 123 4567."),
    )
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(
        _("city"),
        max_length=100,
        blank=True,
        help_text=_("Municipality; kept for statistics after anonymisation (S3)."),
    )
    country = models.CharField(
        _("country"), max_length=2, default="FI", help_text=_("Two-letter ISO country code.")
    )
    birth_date = models.DateField(
        _("birth date"),
        null=True,
        blank=True,
        help_text=_("The notice collects age or birth date: fill in only what the customer gave."),
    )
    age = models.PositiveSmallIntegerField(
        _("age"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(130)],
        help_text=_("Age as the customer stated it, when no birth date was given."),
    )
    age_recorded_on = models.DateField(
        _("age recorded on"),
        null=True,
        blank=True,
        help_text=_("The day the age was stated; the age band is derived from it."),
    )
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Derived from birth date or age; only the age band is shown."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.FINNISH
    )
    source = models.CharField(
        _("source"),
        max_length=32,
        choices=Source.choices,
        help_text=_("Where this customer's data came from (privacy notice: regular sources, S8)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_activity_at = models.DateTimeField(
        _("last recorded contact"),
        default=timezone.now,
        db_index=True,
        help_text=_(
            "A contact recorded by hand (a call, a visit), the creation, or the last purchase whose "
            "order has left the purchase history. The retention period counts from the customer's "
            "last activity: the latest of this and their orders, requests, changes, objections and "
            "consents."
        ),
    )
    anonymised_at = models.DateTimeField(
        _("anonymised"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set when the customer was irreversibly anonymised (S19)."),
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customer_name_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(fields=["postal_code"], name="customer_postal_code_idx"),
            models.Index(fields=["city"], name="customer_city_idx"),
        ]

    def __str__(self) -> str:
        if self.anonymised_at:
            return _("Anonymised customer #%(pk)s") % {"pk": self.pk}
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args, **kwargs) -> None:
        self.birth_year = self.derive_birth_year()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"birth_date", "age"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "birth_year"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        super().clean()
        self.country = (self.country or "").upper()
        errors: dict[str, ValidationError] = {}
        if self.country == "FI" and self.postal_code:
            try:
                validate_finnish_postal_code(self.postal_code)
            except ValidationError as error:
                errors["postal_code"] = error
        if self.birth_date and self.birth_date > timezone.localdate():
            errors["birth_date"] = ValidationError(_("A birth date cannot be in the future."))
        if self.birth_date and self.age is not None:
            errors["age"] = ValidationError(
                _("Give the birth date or the age, not both: the notice collects one of them.")
            )
        if errors:
            raise ValidationError(errors)

    def derive_birth_year(self) -> int | None:
        if self.birth_date:
            return self.birth_date.year
        if self.age is not None:
            if self.age_recorded_on is None:
                self.age_recorded_on = timezone.localdate()
            return self.age_recorded_on.year - self.age
        return self.birth_year if self.anonymised_at else None

    @property
    def current_age(self) -> int | None:
        today = timezone.localdate()
        if self.birth_date:
            bd = self.birth_date
            return today.year - bd.year - ((today.month, today.day) < (bd.month, bd.day))
        if self.birth_year:
            return today.year - self.birth_year
        return None

    @property
    def age_band(self) -> str | None:
        band = age_band_for(self.current_age)
        # The label in the active language, as text (an access report stores it in JSON).
        return str(AgeBand(band).label) if band else None

    @property
    def has_complete_postal_address(self) -> bool:
        return bool(self.street_address and self.postal_code and self.city)


class Channel(models.TextChoices):
    """How an objection or consent reached the business (S6 names the first three)."""

    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    EMAIL = "email", _("E-mail")
    CONTACT_PERSON = "contact_person", _("Contact person")
    PHONE = "phone", _("Phone")
    WEB_FORM = "web_form", _("Web form")
    BAN_REGISTER = "ban_register", _("Direct-marketing ban register")
    SUPPRESSION = "suppression", _("Erased earlier, asked not to be contacted again")


class ObjectionPurpose(models.TextChoices):
    """What a customer may forbid (S6 and S17)."""

    LISTING = "listing", _("Publication in lists and mailing labels")
    DIRECT_ADVERTISING = "direct_advertising", _("Direct advertising")
    DISTANCE_SELLING = "distance_selling", _("Distance selling")
    DIRECT_MARKETING = "direct_marketing", _("Direct marketing")
    MARKET_RESEARCH = "market_research", _("Market and opinion research")


# The forms direct marketing takes. An objection to any of them is absolute (GDPR
# art. 21(3)) and leaves the person off mailing labels (S6, S17).
DIRECT_MARKETING_PURPOSES = (
    ObjectionPurpose.LISTING,
    ObjectionPurpose.DIRECT_ADVERTISING,
    ObjectionPurpose.DISTANCE_SELLING,
    ObjectionPurpose.DIRECT_MARKETING,
)


class MarketingObjectionQuerySet(models.QuerySet):
    def in_force(self, *purposes: str) -> MarketingObjectionQuerySet:
        qs = self.filter(withdrawn_at__isnull=True)
        return qs.filter(purpose__in=purposes) if purposes else qs


class MarketingObjection(models.Model):
    """A customer forbids one purpose (S6, S17). Rows are never deleted while the
    customer exists: a withdrawal is recorded beside the objection, so the
    history shows what was in force when."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), related_name="objections", on_delete=models.CASCADE
    )
    purpose = models.CharField(_("purpose"), max_length=32, choices=ObjectionPurpose.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    channel = models.CharField(_("received by"), max_length=32, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Staff member who recorded it; empty when it came through the web form."),
    )
    withdrawn_at = models.DateTimeField(
        _("withdrawn"),
        null=True,
        blank=True,
        help_text=_("When the customer withdrew the objection; empty while it is in force."),
    )
    withdrawal_channel = models.CharField(
        _("withdrawn by way of"),
        max_length=32,
        choices=Channel.choices,
        blank=True,
        help_text=_("How the withdrawal reached the business; empty while the objection is in force."),
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Staff member who recorded the withdrawal."),
    )

    # An objection is a record of what the customer said (S17): what, when, by which
    # channel and who wrote it down never change. A withdrawal is written once beside it.
    RECORD_FIELDS = ("customer", "purpose", "received_at", "channel", "recorded_by")
    WITHDRAWAL_FIELDS = ("withdrawn_at", "withdrawal_channel", "withdrawn_by")

    objects = MarketingObjectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("marketing objection")
        verbose_name_plural = _("marketing objections")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_objection_in_force_per_purpose",
                violation_error_message=_("This customer already has this objection in force."),
            )
        ]

    def __str__(self) -> str:
        return str(self.get_purpose_display())

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            rewritten = self.rewritten_fields()
            if rewritten:
                raise ObjectionRewriteError(f"A recorded objection cannot change: {', '.join(rewritten)}.")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.withdrawn_at and self.received_at and self.withdrawn_at < self.received_at:
            raise ValidationError({"withdrawn_at": _("A withdrawal cannot precede the objection.")})

    def rewritten_fields(self) -> list[str]:
        """The recorded facts this unsaved state would change: any of the objection's own,
        and the withdrawal's once one is stored."""
        facts = (*self.RECORD_FIELDS, *self.WITHDRAWAL_FIELDS)
        attnames = {f.name: f.attname for f in self._meta.concrete_fields if f.name in facts}
        stored = type(self).objects.filter(pk=self.pk).values(*attnames.values()).first()
        if stored is None:
            return []
        guarded = self.RECORD_FIELDS + (self.WITHDRAWAL_FIELDS if stored["withdrawn_at"] else ())
        return [name for name in guarded if stored[attnames[name]] != getattr(self, attnames[name])]

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


class ObjectionRewriteError(ValueError):
    """Raised when code tries to change what an objection recorded (S17)."""


class EmailMarketingConsentQuerySet(models.QuerySet):
    def in_force(self) -> EmailMarketingConsentQuerySet:
        return self.filter(withdrawn_at__isnull=True)


class EmailMarketingConsent(models.Model):
    """Prior consent to e-mail marketing (Act 917/2014 s. 200). History is kept."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        related_name="email_consents",
        on_delete=models.CASCADE,
    )
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    channel = models.CharField(_("given by"), max_length=32, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = EmailMarketingConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-mail marketing consent")
        verbose_name_plural = _("e-mail marketing consents")
        ordering = ["-given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_email_consent_in_force",
                violation_error_message=_("This customer already has a consent in force."),
            )
        ]

    def __str__(self) -> str:
        return str(_("E-mail marketing consent"))

    def clean(self) -> None:
        super().clean()
        if self.withdrawn_at and self.given_at and self.withdrawn_at < self.given_at:
            raise ValidationError({"withdrawn_at": _("A withdrawal cannot precede the consent.")})


class OrderChannel(models.TextChoices):
    SHOP = "shop", _("Shop")
    WEB_SHOP = "web_shop", _("Web shop")
    RESELLER = "reseller", _("Reseller")


class InvoiceStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    OPEN = "open", _("Open")
    DEBT_COLLECTION = "debt_collection", _("In debt collection")
    CREDITED = "credited", _("Credited")


class OrderQuerySet(models.QuerySet):
    def unsettled(self) -> OrderQuerySet:
        """Open invoices and debt collection: both block erasure (S11)."""
        return self.filter(invoice_status__in=[InvoiceStatus.OPEN, InvoiceStatus.DEBT_COLLECTION])

    def yearly_totals(self) -> list[dict]:
        """Orders and their sum per calendar year, newest first (S3: statistics, which
        need no buyer: a detached or anonymised order counts the same)."""
        return list(
            self.annotate(year=ExtractYear("ordered_on"))
            .values("year")
            .annotate(orders=Count("pk"), total=Sum("total"))
            .order_by("-year")
        )


class Order(models.Model):
    """A past order (S2: manage and archive orders; S7: past orders)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        related_name="orders",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Empty when the buyer was erased and the order is kept for bookkeeping only."),
    )
    order_number = models.CharField(_("order number"), max_length=40, unique=True)
    ordered_on = models.DateField(_("date"), db_index=True)
    channel = models.CharField(_("channel"), max_length=16, choices=OrderChannel.choices)
    description = models.CharField(_("description"), max_length=500, blank=True)
    total = models.DecimalField(
        _("total (EUR)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text=_("Total in euros including VAT; a refund is recorded as a credit, not a negative total."),
    )
    invoice_status = models.CharField(
        _("invoice status"),
        max_length=16,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.PAID,
        db_index=True,
        help_text=_("An open invoice or debt collection prevents erasure (privacy notice)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_on", "-pk"]
        # A customer's latest order, found from the index (Customer.with_last_activity).
        indexes = [models.Index(fields=["customer", "-ordered_on"], name="order_customer_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0),
                name="order_total_not_negative",
                violation_error_message=_("An order total cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return self.order_number


class DisclosureCategory(models.TextChoices):
    """The only recipients the notice allows (S9)."""

    CREDIT_DECISION = "credit_decision", _("Credit decision")
    DEBT_COLLECTION = "debt_collection", _("Debt collection")
    INVOICING = "invoicing", _("Invoicing")
    AUTHORITY = "authority", _("Authority, where the law requires")


class Disclosure(models.Model):
    """Data given outside the business (S9); rectifications are told to these recipients (S18)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        related_name="disclosures",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    category = models.CharField(
        _("recipient category"),
        max_length=32,
        choices=DisclosureCategory.choices,
        help_text=_("The notice allows disclosures only for these purposes."),
    )
    recipient = models.CharField(
        _("recipient"), max_length=200, help_text=_("The organisation that received the data.")
    )
    disclosed_on = models.DateField(_("date"), default=timezone.localdate)
    data_disclosed = models.CharField(
        _("what was disclosed"),
        max_length=500,
        help_text=_("Which data was given, e.g. name, address and open invoice."),
    )
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("disclosed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-disclosed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=DisclosureCategory.values),
                name="disclosure_allowed_category",
                violation_error_message=_("The notice does not allow disclosure to this recipient."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.recipient}"


class ChangeKind(models.TextChoices):
    """What a rectification did to the fields of one change (GDPR art. 16 and 17(1)(a); the
    notice: incorrect, unnecessary, incomplete or out-of-date data is corrected, deleted or
    completed)."""

    CORRECTED = "corrected", pgettext_lazy("kind of change", "corrected")
    DELETED = "deleted", pgettext_lazy("kind of change", "deleted")
    COMPLETED = "completed", pgettext_lazy("kind of change", "completed")


class ChangeReason(models.TextChoices):
    """Why staff rectified a field: the notice's four words."""

    INCORRECT = "incorrect", _("incorrect")
    OUT_OF_DATE = "out_of_date", _("out of date")
    UNNECESSARY = "unnecessary", _("unnecessary")
    INCOMPLETE = "incomplete", _("incomplete")


class CustomerChange(models.Model):
    """A change to a customer's data and where it came from (S8: every change records
    its source; S18: the source is told of a rectification). Field names only."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), related_name="changes", on_delete=models.CASCADE
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    fields = models.JSONField(_("fields changed"), default=list)
    kind = models.CharField(
        _("kind of change"),
        max_length=16,
        choices=ChangeKind.choices,
        blank=True,
        help_text=_(
            "For a rectification: whether these fields were corrected, deleted (erased as "
            "unnecessary or wrong, GDPR art. 17(1)(a)) or completed (art. 16). Empty for "
            "other updates."
        ),
    )
    reason = models.CharField(
        _("reason"),
        max_length=16,
        choices=ChangeReason.choices,
        blank=True,
        help_text=_(
            "For a rectification: why the data was changed (incorrect, out of date, "
            "unnecessary or incomplete)."
        ),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("change of customer data")
        verbose_name_plural = _("changes of customer data")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="change_customer_date_idx")]

    def __str__(self) -> str:
        return ", ".join(self.fields)


# Channels by which an objection reaches the register without the customer's doing.
NOT_CUSTOMER_CHANNELS = (Channel.BAN_REGISTER, Channel.SUPPRESSION)


def _latest(rows: QuerySet, link: str, field: str) -> Subquery:
    """The newest `field` of `rows` belonging to the outer customer (one index probe)."""
    newest = rows.filter(**{link: OuterRef("pk"), f"{field}__isnull": False}).order_by(F(field).desc())
    return Subquery(newest.values(field)[:1])


def _activity_subqueries() -> list[Subquery | Cast]:
    """Where a customer's own activity is recorded, newest first per source."""
    # Data requests live in the privacy app, which builds on this one: looked up, not imported.
    request_model = apps.get_model("privacy", "DataRequest")
    objections = MarketingObjection.objects.exclude(channel__in=NOT_CUSTOMER_CHANNELS)
    return [
        # An order is dated by day: it counts from that day's start.
        Cast(_latest(Order.objects.all(), "customer", "ordered_on"), DateTimeField()),
        _latest(CustomerChange.objects.all(), "customer", "changed_at"),
        _latest(objections, "customer", "received_at"),
        _latest(objections, "customer", "withdrawn_at"),
        _latest(EmailMarketingConsent.objects.all(), "customer", "given_at"),
        _latest(EmailMarketingConsent.objects.all(), "customer", "withdrawn_at"),
        _latest(request_model._default_manager.all(), "customers", "submitted_at"),
        _latest(request_model._default_manager.all(), "customers", "closed_at"),
    ]


class ImportJob(models.Model):
    """A preview or an import of a large file, run by the background worker
    (customers/import_jobs.py; issue 19, item 8).

    It keeps counts and progress; the file itself waits in the private upload folder
    (customers/import_uploads.py) under `upload_token`. `preview` holds what the preview
    page shows: the first rows with their values (personal data) only while the file
    waits, cleared when it is imported, cancelled, replaced or swept; else the invalid
    rows' numbers and reasons without values; nothing an hour after the job finished."""

    class Kind(models.TextChoices):
        PREVIEW = "preview", _("preview")
        IMPORT = "import", _("import")

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    # The language of the staff member who started it: its messages are written in it.
    language = models.CharField(_("language"), max_length=10, default="fi")
    upload_token = models.CharField(_("upload"), max_length=32, blank=True)
    shop = models.CharField(_("format"), max_length=20, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    new = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    left_out = models.PositiveIntegerField(_("left out"), default=0)
    imported = models.BooleanField(_("imported"), default=False)
    message = models.TextField(_("message"), blank=True)
    preview = models.JSONField(_("preview"), null=True, blank=True)
    # How the file is read and what staff chose in its preview: the file's suffix, whether
    # to skip the rows that cannot be imported, the conflicts ticked as the same person
    # (row numbers and customer ids). No values.
    options = models.JSONField(_("options"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="importjob_state_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
