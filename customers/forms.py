"""Admin forms of the register."""

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .amounts import EuroAmountField
from .models import Channel, Customer, MarketingObjection, Order, Source
from .order_numbers import next_order_number


class CustomerAdminForm(forms.ModelForm):
    """The customer form, asking where a change came from (S8: every change records
    its source)."""

    change_source = forms.ChoiceField(
        label=_("source of this change"),
        choices=[("", "---------"), *Source.choices],
        required=False,
        help_text=_(
            "Where the new data came from, e.g. a notice from the customer or an "
            "address-update service. Required when you change existing data."
        ),
    )

    class Meta:
        model = Customer
        fields = [
            "first_name",
            "last_name",
            "organisation",
            "preferred_language",
            "email",
            "phone",
            "street_address",
            "postal_code",
            "city",
            "country",
            "birth_date",
            "age",
            "age_recorded_on",
            "source",
            "last_activity_at",
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        changed = [name for name in self.changed_data if name != "change_source"]
        if self.instance.pk and changed and not cleaned.get("change_source"):
            self.add_error("change_source", _("Say where the changed data came from."))
        return cleaned


class EraseCustomersForm(forms.Form):
    """The second click of the erase action: the plan was shown, staff confirm it."""

    confirm = forms.ChoiceField(choices=[("yes", "yes")], widget=forms.HiddenInput, initial="yes")


# A withdrawal comes from the customer; the ban register and a past erasure's suppression
# are where objections come from, not how a customer takes one back.
SOURCES_ONLY = {Channel.BAN_REGISTER, Channel.SUPPRESSION}
WITHDRAWAL_CHANNELS = [(value, label) for value, label in Channel.choices if value not in SOURCES_ONLY]


class WithdrawObjectionForm(forms.Form):
    """The confirmation of withdrawing one objection: when the customer withdrew it and how
    the withdrawal came (S17). The objection itself is shown, not edited."""

    withdrawn_at = forms.SplitDateTimeField(
        label=_("withdrawn"), widget=AdminSplitDateTime, initial=timezone.now
    )
    channel = forms.ChoiceField(label=_("withdrawn by way of"), choices=WITHDRAWAL_CHANNELS)

    def __init__(self, *args, objection: MarketingObjection, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.objection = objection

    def clean_withdrawn_at(self):
        when = self.cleaned_data["withdrawn_at"]
        if when < self.objection.received_at:
            raise forms.ValidationError(_("A withdrawal cannot precede the objection."))
        if when > timezone.now():
            raise forms.ValidationError(_("A withdrawal cannot be dated in the future."))
        return when


class AnonymiseOrganisationsForm(forms.Form):
    """The second click of the anonymise action: the plan was shown; staff say where the
    instruction came from (S8: the detached people's history records it) and confirm."""

    confirm = forms.ChoiceField(choices=[("yes", "yes")], widget=forms.HiddenInput, initial="yes")
    source = forms.ChoiceField(
        label=_("source of this change"),
        choices=[("", "---------"), *Source.choices],
        help_text=_("Where the instruction came from, e.g. a notice from the organisation."),
    )


_total = Order._meta.get_field("total")


class OrderForm(forms.ModelForm):
    """An order's sum typed the Finnish or the English way (customers.amounts)."""

    total = EuroAmountField(label=capfirst(_total.verbose_name), help_text=_total.help_text, min_value=0)

    class Meta:
        model = Order
        fields = [
            "customer",
            "order_number",
            "ordered_on",
            "channel",
            "description",
            "total",
            "invoice_status",
        ]


class OrderAdminForm(OrderForm):
    """A new order names its buyer, chosen from the register (not anonymised), and is
    offered the next order number. An order kept after its buyer's erasure stays without
    one. `proposed_number` carries the number offered, to tell it from one typed."""

    proposed_number = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.renumbered_from = ""
        customer = self.fields.get("customer")
        if customer is not None and self.instance.pk is None:
            customer.required = True
            customer.queryset = Customer.objects.not_anonymised()  # type: ignore[attr-defined]
            customer.help_text = _("Type part of the name, e-mail address or phone number and choose.")
            customer.error_messages["required"] = _("Choose the customer who placed the order.")
            # Wide enough for a name, a city and an e-mail address (Select2 reads data-width).
            select = getattr(customer.widget, "widget", customer.widget)  # the admin wraps it
            if select is not None:
                select.attrs["data-width"] = "34em"

    @property
    def number_was_proposed(self) -> bool:
        proposed = self.cleaned_data.get("proposed_number")
        return bool(proposed) and self.cleaned_data.get("order_number") in (proposed, self.renumbered_to)

    @property
    def renumbered_to(self) -> str:
        return self.cleaned_data.get("order_number", "") if self.renumbered_from else ""

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        number, proposed = cleaned.get("order_number"), cleaned.get("proposed_number")
        if (
            self.instance.pk is None
            and number
            and number == proposed
            and Order.objects.filter(order_number=number).exists()
        ):
            # Someone saved an order with the number offered meanwhile: take the next.
            self.renumbered_from = number
            cleaned["order_number"] = next_order_number()
        return cleaned
