"""Admin forms of the register."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Customer, Source


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


class AnonymiseOrganisationsForm(forms.Form):
    """The second click of the anonymise action: the plan was shown; staff say where the
    instruction came from (S8: the detached people's history records it) and confirm."""

    confirm = forms.ChoiceField(choices=[("yes", "yes")], widget=forms.HiddenInput, initial="yes")
    source = forms.ChoiceField(
        label=_("source of this change"),
        choices=[("", "---------"), *Source.choices],
        help_text=_("Where the instruction came from, e.g. a notice from the organisation."),
    )
