"""The register in the admin, made for daily work (S2, S7, S8, S9, S17)."""

from __future__ import annotations

from typing import Any, cast

import phonenumbers
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from privacy.admin.base import RegisterModelAdmin
from privacy.audit_display import annotate, customer_events
from privacy.erasure import erase_customer
from privacy.objection import ObjectionWithdrawnError, record_objection, withdraw_objection
from privacy.organisation_anonymisation import anonymise_organisations, plan_anonymisation
from privacy.suppression import honour_suppression

from .changes import record_change
from .forms import (
    AnonymiseOrganisationsForm,
    CustomerAdminForm,
    EraseCustomersForm,
    OrderAdminForm,
    OrderForm,
    WithdrawObjectionForm,
)
from .import_admin import CustomerImportMixin, banlist_view
from .label_views import labels_view
from .models import (
    AGE_BAND_LIMITS,
    AgeBand,
    Customer,
    CustomerChange,
    CustomerQuerySet,
    Disclosure,
    EmailMarketingConsent,
    MarketingObjection,
    ObjectionPurpose,
    Order,
    Organisation,
)
from .order_numbers import next_order_number


class ObjectionFilter(admin.SimpleListFilter):
    title = _("objection in force")
    parameter_name = "objection"

    def lookups(self, request, model_admin):
        return [("any", _("Any objection")), ("none", _("No objection")), *ObjectionPurpose.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.objecting_to(*ObjectionPurpose.values)
        if value == "none":
            return queryset.contactable(*ObjectionPurpose.values)
        if value in ObjectionPurpose.values:
            return queryset.objecting_to(value)
        return queryset


class OpenInvoiceFilter(admin.SimpleListFilter):
    title = _("open invoices")
    parameter_name = "open_invoices"

    def lookups(self, request, model_admin):
        return [("yes", _("Open invoice or debt collection")), ("no", _("None"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.with_open_invoices()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.with_open_invoices().values("pk"))
        return queryset


class AgeBandFilter(admin.SimpleListFilter):
    title = _("age band")
    parameter_name = "age_band"

    def lookups(self, request, model_admin):
        return [(band, AgeBand(band).label) for band, _low, _high in AGE_BAND_LIMITS]

    def queryset(self, request, queryset):
        if self.value() in AgeBand.values:
            return queryset.in_age_band(self.value())
        return queryset


ERASE_AT_ONCE = 100


def euros(amount) -> str:
    """A sum as the admin's language writes it: 1 234,50 € in Finnish."""
    if amount is None:
        return "–"
    number = formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return gettext("%(amount)s €") % {"amount": number}


class OrderInline(admin.TabularInline):
    model = Order
    form = OrderForm
    extra = 0
    fields = ["order_number", "ordered_on", "channel", "description", "total", "invoice_status"]
    show_change_link = True
    can_delete = False


@admin.display(description=_("withdraw"))
def objection_withdraw_link(objection: MarketingObjection) -> str:
    if objection.pk is None or not objection.in_force:
        return "–"
    url = reverse("admin:customers_marketingobjection_withdraw", args=[objection.pk])
    return format_html('<a href="{}">{}</a>', url, gettext("Withdraw"))


class MarketingObjectionInline(admin.TabularInline):
    """The customer's objection history, read-only (S17): a recorded objection is never
    edited. New ones are added in empty rows; one in force is withdrawn by its link."""

    model = MarketingObjection
    extra = 0
    fields = [
        "purpose",
        "received_at",
        "channel",
        "recorded_by",
        "withdrawn_at",
        "withdrawal_channel",
        "withdrawn_by",
        "withdraw",
    ]
    readonly_fields = ["recorded_by", *MarketingObjection.WITHDRAWAL_FIELDS, "withdraw"]
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "withdrawn_by")

    def has_change_permission(self, request, obj=None):
        # Recorded rows are shown read-only, and Django ignores any data posted for them.
        return False

    @admin.display(description=_("withdraw"))
    def withdraw(self, objection: MarketingObjection) -> str:
        return objection_withdraw_link(objection)


class EmailMarketingConsentInline(admin.TabularInline):
    model = EmailMarketingConsent
    extra = 0
    fields = ["given_at", "channel", "recorded_by", "withdrawn_at"]
    readonly_fields = ["recorded_by"]
    can_delete = False


class DisclosureInline(admin.TabularInline):
    model = Disclosure
    extra = 0
    fields = ["disclosed_on", "category", "recipient", "data_disclosed", "disclosed_by"]
    readonly_fields = ["disclosed_by"]
    can_delete = False


class CustomerChangeInline(admin.TabularInline):
    model = CustomerChange
    fields = readonly_fields = ("changed_at", "source", "fields", "kind", "reason", "changed_by")
    extra = 0
    can_delete = False
    verbose_name_plural = _("where changes came from")

    def has_add_permission(self, request, obj=None):
        return False


def phone_search_term(term: str) -> str | None:
    """A search term typed as a phone number, in the E.164 form stored."""
    digits = sum(ch.isdigit() for ch in term)
    if digits < 5:
        return None
    try:
        number = phonenumbers.parse(term, "FI")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_phone(phone) -> str:
    """+358401234567 as a Finn writes it: 040 1234567 (another country's in its own form)."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(str(phone), "FI")
    except phonenumbers.NumberParseException:
        return str(phone)
    if number.country_code == 358:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _is_autocomplete(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name == "autocomplete")


@admin.register(Customer)
class CustomerAdmin(CustomerImportMixin, RegisterModelAdmin):
    """Customers (S2, S7, S8). Nothing is deleted by hand: a customer is erased with the
    action below, which respects open invoices, debt collection and the bookkeeping
    period (S11, S19)."""

    audit_views = True  # opening a customer's page is in the audit log
    deletable = False
    list_display = [
        "full_name_link",
        "email",
        "phone",
        "postal_code",
        "city",
        "organisation",
        "source",
        "age_band",
        "last_activity",
    ]
    list_display_links = None
    list_select_related = ["organisation"]
    search_fields = ["first_name", "last_name", "email", "phone", "postal_code__exact"]
    search_help_text = _("Search by name, e-mail, phone (any format) or postal code.")
    list_filter = ["city", "source", ObjectionFilter, OpenInvoiceFilter, AgeBandFilter, "preferred_language"]
    list_per_page = 50
    show_full_result_count = False
    autocomplete_fields = ["organisation"]
    readonly_fields = ["age_band", "last_activity", "created_at", "updated_at", "anonymised_at"]
    inlines = [
        OrderInline,
        MarketingObjectionInline,
        EmailMarketingConsentInline,
        DisclosureInline,
        CustomerChangeInline,
    ]
    form = CustomerAdminForm
    fieldsets = [
        (_("Person"), {"fields": ["first_name", "last_name", "organisation", "preferred_language"]}),
        (_("Contact"), {"fields": ["email", "phone", "street_address", "postal_code", "city", "country"]}),
        (_("Age or birth date"), {"fields": ["birth_date", "age", "age_recorded_on", "age_band"]}),
        (
            _("Source and activity"),
            {
                "fields": [
                    "source",
                    "change_source",
                    "last_activity",
                    "last_activity_at",
                    "created_at",
                    "updated_at",
                    "anonymised_at",
                ]
            },
        ),
    ]

    @admin.display(description=_("name"), ordering="last_name")
    def full_name_link(self, obj: Customer) -> str:
        url = reverse("admin:customers_customer_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, str(obj))

    @admin.display(description=_("age band"))
    def age_band(self, obj: Customer) -> str:
        return obj.age_band or "–"

    def get_queryset(self, request):
        queryset = cast(CustomerQuerySet, super().get_queryset(request))
        if _is_autocomplete(request):
            # A customer is chosen for a new order: anonymised ones are not buyers any more
            # (erased ones are gone); the search needs no last activity.
            return queryset.not_anonymised()
        # Each row's last activity is derived in the same query (one index probe per
        # source and row, for the page's rows only).
        return queryset.with_last_activity()

    def autocomplete_label(self, obj: Customer) -> str:
        """How a customer reads in the order form's search: the name and what tells two
        people of one name apart (city, e-mail or phone, as far as recorded)."""
        hints = [part for part in (obj.city, obj.email or national_phone(obj.phone)) if part]
        return " · ".join([str(obj), *hints])

    @admin.display(description=_("last activity"))
    def last_activity(self, obj: Customer):
        """The latest of orders, requests, changes, contacts, objections and consents (S19):
        the retention period counts from it."""
        latest = getattr(obj, "last_activity", None)
        return timezone.localdate(latest).strftime("%-d.%-m.%Y") if latest else "–"

    # How many of the latest events the customer's page shows; the rest behind a link.
    AUDIT_TRAIL_ROWS = 10

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """A customer's page ends with who has seen or changed them (from the audit log,
        names resolved as the page is shown), for those who may read the log."""
        if obj is not None and obj.pk and request.user.has_perm("privacy.view_auditevent"):
            events = customer_events(obj)
            context["audit_trail"] = annotate(list(events[: self.AUDIT_TRAIL_ROWS]))
            context["audit_trail_count"] = events.count()
            context["audit_trail_url"] = (
                reverse("admin:privacy_auditevent_changelist") + f"?customer={obj.pk}"
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "labels/",
                self.admin_site.admin_view(self._labels),
                name="customers_customer_labels",
            ),
            path(
                "ban-list/",
                self.admin_site.admin_view(self._banlist),
                name="customers_customer_banlist",
            ),
            *super().get_urls(),
        ]

    # The custom pages show or change personal data: they ask for the same permissions
    # (and the confidentiality commitment) as the customer list itself.
    def _labels(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return labels_view(self, request)

    def _banlist(self, request):
        if not (
            self.has_change_permission(request) and request.user.has_perm("customers.add_marketingobjection")
        ):
            raise PermissionDenied
        return banlist_view(self, request)

    actions = ["erase_customers"]

    def has_erase_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm("customers.delete_customer")

    @admin.action(description=_("Erase selected customers (legal holds apply)"), permissions=["erase"])
    def erase_customers(self, request, queryset):
        """Erasure by hand (a duplicate, a person who asked by phone): a confirmation page
        shows what each erasure would delete and keep, or what blocks it; then erase."""
        customers = list(queryset.order_by("last_name", "first_name", "pk")[:ERASE_AT_ONCE])
        if EraseCustomersForm(request.POST).is_valid():
            # One button, one transaction: the selection is erased as a whole or not at all.
            with transaction.atomic():
                outcomes = [erase_customer(customer, actor=request.user) for customer in customers]
            erased = sum(outcome.completed for outcome in outcomes)
            blocked = sum(outcome.blocked for outcome in outcomes)
            if erased:
                self.message_user(
                    request, ngettext("%d customer erased.", "%d customers erased.", erased) % erased
                )
            if blocked:
                self.message_user(
                    request,
                    ngettext(
                        "%d customer not erased: an open invoice or debt collection holds the data.",
                        "%d customers not erased: an open invoice or debt collection holds the data.",
                        blocked,
                    )
                    % blocked,
                    messages.WARNING,
                )
            return None
        plans = [(customer, erase_customer(customer, actor=None, dry_run=True)) for customer in customers]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase customers"),
            "opts": self.model._meta,
            "plans": plans,
            "erasable": sum(not plan.blocked for _customer, plan in plans),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "confirm_form": EraseCustomersForm(),
            "limited": queryset.count() > ERASE_AT_ONCE,
            "limit": ERASE_AT_ONCE,
        }
        return TemplateResponse(request, "admin/customers/customer/erase_confirmation.html", context)

    def get_ordering(self, request):
        # A search lists its matches by name, case aside. Ordering by an expression (not
        # the name index) lets the database find the few matches through the search
        # indexes and sort them, instead of walking the whole name index in order.
        if request.GET.get("q", "").strip():
            return [Lower("last_name"), Lower("first_name"), "pk"]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        unsearched = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = phone_search_term(search_term)
        if phone:
            # The same rows as searched (the autocomplete's leave anonymised people out).
            queryset |= unsearched.filter(phone=phone)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and honour_suppression(obj, actor=request.user):
            self.message_user(
                request,
                _(
                    "This e-mail address belongs to someone erased earlier at their wish never "
                    "to be contacted again: every marketing objection is now recorded for them."
                ),
                messages.WARNING,
            )
        if change:
            fields = [name for name in form.changed_data if name != "change_source"]
            record_change(
                customer=obj, fields=fields, source=form.cleaned_data["change_source"], actor=request.user
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not MarketingObjection:
            return super().save_formset(request, form, formset, change)
        # Only the new rows: the recorded ones are read-only and never saved again.
        for objection in formset.save(commit=False):
            if objection.pk is None:
                record_objection(objection=objection, actor=request.user)
        return None


class PeopleInline(admin.TabularInline):
    model = Customer
    fields = readonly_fields = ("first_name", "last_name", "email", "phone", "city")
    extra = 0
    show_change_link = True
    can_delete = False
    verbose_name = _("person")
    verbose_name_plural = _("people representing this organisation")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(RegisterModelAdmin):
    # Deleting an organisation would cut the people who represent it loose without a
    # trace in their history; nothing in the register is deleted with the admin's delete.
    # It is anonymised instead, with the action below (its people are detached).
    deletable = False
    list_display = ["name", "business_id", "city", "people_count"]
    search_fields = ["name", "business_id"]
    ordering = ["name", "pk"]  # the customer form's autocomplete pages through them in order
    list_filter = ["city"]
    inlines = [PeopleInline]
    actions = ["anonymise_organisations"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_people=Count("people"))

    @admin.display(description=_("people"), ordering="_people")
    def people_count(self, obj) -> int:
        return obj._people

    def has_change_permission(self, request, obj=None):
        # An anonymised organisation is shown, not edited: nothing can be typed back.
        if obj is not None and obj.anonymised_at:
            return False
        return super().has_change_permission(request, obj)

    def _tell_anonymisation(self, request, outcome) -> None:
        if outcome.anonymised:
            self.message_user(
                request,
                ngettext(
                    "%(count)d organisation anonymised; "
                    "%(people)d people detached (kept, with their orders).",
                    "%(count)d organisations anonymised; "
                    "%(people)d people detached (kept, with their orders).",
                    outcome.anonymised,
                )
                % {"count": outcome.anonymised, "people": outcome.people_detached},
            )
        if outcome.already_anonymised:
            self.message_user(
                request,
                ngettext(
                    "%d organisation was anonymised before: nothing to do.",
                    "%d organisations were anonymised before: nothing to do.",
                    outcome.already_anonymised,
                )
                % outcome.already_anonymised,
            )
        if outcome.blocked:
            self.message_user(
                request,
                ngettext(
                    "%d organisation not anonymised: its people have an open invoice or debt collection.",
                    "%d organisations not anonymised: their people have an open invoice or debt collection.",
                    outcome.blocked,
                )
                % outcome.blocked,
                messages.WARNING,
            )

    @admin.action(description=_("Anonymise selected organisations"), permissions=["change"])
    def anonymise_organisations(self, request, queryset):
        """A confirmation page shows what is blanked and that the people are detached,
        not deleted, or what blocks it; then anonymise (privacy/organisation_anonymisation.py)."""
        selected = queryset.order_by("name", "pk")[:ERASE_AT_ONCE]
        selected = Organisation.objects.filter(pk__in=list(selected.values_list("pk", flat=True)))
        form = AnonymiseOrganisationsForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            outcome = anonymise_organisations(
                selected, actor=request.user, source=form.cleaned_data["source"]
            )
            self._tell_anonymisation(request, outcome)
            return None
        plans = plan_anonymisation(selected)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Anonymise organisations"),
            "opts": self.model._meta,
            "plans": plans,
            "to_do": sum(plan.to_do for plan in plans),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "confirm_form": form,
            "limited": queryset.count() > ERASE_AT_ONCE,
            "limit": ERASE_AT_ONCE,
        }
        return TemplateResponse(request, "admin/customers/organisation/anonymise_confirmation.html", context)


@admin.register(Order)
class OrderAdmin(RegisterModelAdmin):
    """Orders (S2, S7). A new order is entered so that it cannot go wrong (issue 12, item
    3): its customer is searched and chosen (name, e-mail or phone), its sum read as euros
    and cents however typed, its number the next in sequence."""

    deletable = False  # an order is a voucher (Accounting Act): credited, not deleted
    form = OrderAdminForm
    list_display = ["order_number", "customer_link", "ordered_on", "channel", "total_euros", "invoice_status"]
    list_select_related = ["customer"]
    list_filter = ["invoice_status", "channel", "ordered_on"]
    search_fields = ["=order_number", "customer__last_name", "customer__email"]
    autocomplete_fields = ["customer"]
    fields = [*OrderAdminForm.Meta.fields, "proposed_number"]
    date_hierarchy = "ordered_on"
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("total"), ordering="total")
    def total_euros(self, obj: Order) -> str:
        return euros(obj.total)

    def get_changeform_initial_data(self, request):
        initial: dict[str, Any] = {**super().get_changeform_initial_data(request)}
        initial.setdefault("order_number", next_order_number())
        initial["proposed_number"] = initial["order_number"]
        initial.setdefault("ordered_on", timezone.localdate())
        return initial

    def save_model(self, request, obj, form, change):
        if change or not form.number_was_proposed:
            super().save_model(request, obj, form, change)
        else:
            self._save_with_next_free_number(request, obj, form)
        request._order_renumbered_from = form.renumbered_from

    def _save_with_next_free_number(self, request, obj, form) -> None:
        # The number offered may be taken between the form's check and the insert (two
        # staff members saving at once): then the next free one, a few times over.
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    super().save_model(request, obj, form, False)
                return
            except IntegrityError:
                if not Order.objects.filter(order_number=obj.order_number).exists():
                    raise
                form.renumbered_from = form.renumbered_from or obj.order_number
                obj.order_number = next_order_number()
        super().save_model(request, obj, form, False)

    def response_add(self, request, obj, post_url_continue=None):
        offered = getattr(request, "_order_renumbered_from", "")
        if offered:
            self.message_user(
                request,
                gettext(
                    "Order number %(offered)s was taken meanwhile by another order: "
                    "this order was saved as %(number)s."
                )
                % {"offered": offered, "number": obj.order_number},
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self):
        return [
            path(
                "statistics/",
                self.admin_site.admin_view(self.statistics_view),
                name="customers_order_statistics",
            ),
            *super().get_urls(),
        ]

    def statistics_view(self, request):
        """Orders and their sum per year (S3): the same whoever the buyer was, or none."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Order statistics"),
            "opts": self.model._meta,
            "rows": Order.objects.yearly_totals(),
        }
        return TemplateResponse(request, "admin/customers/order/statistics.html", context)

    @admin.display(description=_("customer"), ordering="customer__last_name")
    def customer_link(self, obj: Order) -> str:
        if obj.customer is None:
            return gettext("(erased buyer, kept for bookkeeping)")
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.customer))


class InForceFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("In force")), ("no", _("Withdrawn"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(withdrawn_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(~Q(withdrawn_at=None))
        return queryset


class StampedRowAdmin(RegisterModelAdmin):
    """Rows that record which staff member entered them (objections, consents, disclosures):
    never deleted, as an objection or consent is withdrawn and its history stays (S17), and
    a disclosure is a log (S9)."""

    deletable = False
    raw_id_fields = ["customer"]
    actor_field = "recorded_by"

    def get_readonly_fields(self, request, obj=None):
        return [self.actor_field]


@admin.register(MarketingObjection)
class MarketingObjectionAdmin(StampedRowAdmin):
    """Objections are append-only (S17): recorded once (purpose, date, channel, who),
    then only withdrawn, on a confirmation page; both are in the audit log."""

    list_display = [
        "customer",
        "purpose",
        "received_at",
        "channel",
        "recorded_by",
        "withdrawn_at",
        "withdrawal_channel",
        "withdraw",
    ]
    list_select_related = ["customer", "recorded_by"]
    list_filter = ["purpose", "channel", InForceFilter]
    search_fields = ["customer__last_name", "customer__email"]

    def get_readonly_fields(self, request, obj=None):
        return ["recorded_by", *MarketingObjection.WITHDRAWAL_FIELDS]

    def has_change_permission(self, request, obj=None):
        return False  # a recorded objection is shown, never edited: it is withdrawn below

    def has_withdraw_permission(self, request, obj=None) -> bool:
        return self._committed(request) and request.user.has_perm("customers.change_marketingobjection")

    @admin.display(description=_("withdraw"))
    def withdraw(self, objection: MarketingObjection) -> str:
        return objection_withdraw_link(objection)

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        record_objection(objection=obj, actor=request.user)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/withdraw/",
                self.admin_site.admin_view(self.withdraw_view),
                name="customers_marketingobjection_withdraw",
            ),
            *super().get_urls(),
        ]

    def withdraw_view(self, request, object_id):
        """Confirm and record that the customer withdrew one objection."""
        objection = self.get_object(request, object_id)
        if objection is None:
            raise Http404
        if not (self.has_view_permission(request, objection) and self.has_withdraw_permission(request)):
            raise PermissionDenied
        back = reverse("admin:customers_customer_change", args=[objection.customer_id])
        form = WithdrawObjectionForm(request.POST if request.method == "POST" else None, objection=objection)
        if objection.in_force and form.is_valid():
            try:
                withdraw_objection(
                    objection=objection,
                    channel=form.cleaned_data["channel"],
                    withdrawn_at=form.cleaned_data["withdrawn_at"],
                    actor=request.user,
                )
            except ObjectionWithdrawnError:
                pass  # another staff member withdrew it a moment ago: said below
            else:
                self.message_user(request, gettext("The objection is withdrawn; it stays in the history."))
                return redirect(back)
        if not MarketingObjection.objects.filter(pk=objection.pk, withdrawn_at__isnull=True).exists():
            self.message_user(request, gettext("This objection was withdrawn already."), messages.WARNING)
            return redirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Withdraw an objection"),
            "opts": self.model._meta,
            "objection": objection,
            "form": form,
            "media": self.media + form.media,
            "back": back,
        }
        template = "admin/customers/marketingobjection/withdraw_confirmation.html"
        return TemplateResponse(request, template, context, status=400 if form.errors else 200)


@admin.register(EmailMarketingConsent)
class EmailMarketingConsentAdmin(StampedRowAdmin):
    list_display = ["customer", "given_at", "channel", "recorded_by", "withdrawn_at"]
    list_select_related = ["customer", "recorded_by"]
    list_filter = ["channel", InForceFilter]
    search_fields = ["customer__last_name", "customer__email"]


@admin.register(Disclosure)
class DisclosureAdmin(StampedRowAdmin):
    actor_field = "disclosed_by"
    list_display = ["disclosed_on", "customer", "category", "recipient", "disclosed_by"]
    list_select_related = ["customer", "disclosed_by"]
    list_filter = ["category", "disclosed_on"]
    search_fields = ["recipient", "customer__last_name"]
