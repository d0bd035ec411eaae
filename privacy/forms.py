"""The public request form and the staff forms for working a request."""

from __future__ import annotations

import base64
import binascii
import io
from typing import TYPE_CHECKING

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminDateWidget
from django.core.validators import RegexValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from customers.models import ChangeReason, Customer, ObjectionPurpose
from customers.validators import validate_name_characters

from .models import DataRequest, IdentityMethod, Notification, RequestChannel, RequestKind
from .rectification import RECTIFIABLE_FIELDS, clearable, field_label

if TYPE_CHECKING:
    from .data_requests import SuggestedMatch

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
NAME_CHARS = RegexValidator(
    r"^[^<>{}\[\]\\/=@#$%^*_|~`\"0-9]*$", _("Use letters, spaces, hyphens and apostrophes only.")
)


class DataRequestForm(forms.Form):
    """A data subject's request, signed electronically (typed name + declaration +
    e-mail confirmation); a drawn signature is optional (S16)."""

    kind = forms.ChoiceField(
        label=_("What do you ask for?"), choices=RequestKind.choices, widget=forms.RadioSelect
    )
    first_name = forms.CharField(
        label=_("First name"), max_length=100, validators=[NAME_CHARS, validate_name_characters]
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, validators=[NAME_CHARS, validate_name_characters]
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We send a confirmation link here; the request is received once you open it."),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        validators=[RegexValidator(r"^[+0-9 ()-]*$", _("Enter digits, spaces and + only."))],
    )
    street_address = forms.CharField(label=_("Street address (optional)"), max_length=200, required=False)
    postal_code = forms.CharField(
        label=_("Postal code (optional)"),
        max_length=10,
        required=False,
        validators=[RegexValidator(r"^[0-9A-Za-z -]*$", _("Enter a valid postal code."))],
    )
    city = forms.CharField(label=_("City (optional)"), max_length=100, required=False)
    rectification_what = forms.CharField(
        label=_("What is wrong?"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    rectification_correct = forms.CharField(
        label=_("What should it be?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    rectification_grounds = forms.CharField(
        label=_("On what grounds?"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    objection_purposes = forms.MultipleChoiceField(
        label=_("What do you forbid?"),
        choices=ObjectionPurpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    no_contact_again = forms.BooleanField(
        label=_("Do not contact me again"),
        required=False,
        help_text=_(
            "We then keep a one-way code made from your e-mail address (the address itself "
            "cannot be read from it), so that a customer list from a shop cannot add you back "
            "and you get no marketing."
        ),
    )
    # Each language is named in itself, as a reader of that language looks for it.
    reply_language = forms.ChoiceField(
        label=_("Language of the reply"),
        choices=[("fi", "suomi"), ("en", "English")],
        widget=forms.RadioSelect,
    )
    signature_name = forms.CharField(
        label=_("Signature: type your full name"),
        max_length=200,
        validators=[validate_name_characters],
        help_text=_("Typing your name here signs the request electronically."),
    )
    declaration = forms.BooleanField(
        label=_("I declare that I am the person named above and that this request is mine."),
        error_messages={"required": _("Confirm the declaration to sign the request.")},
    )
    drawn_signature = forms.CharField(
        required=False, widget=forms.HiddenInput, max_length=settings.SIGNATURE_MAX_BYTES * 4 // 3 + 100
    )
    # One random key per rendering of the form (issue 13, item 5): the same form sent
    # twice is one request (privacy.data_requests.submit_request_once).
    # The view gives a form posted without a well-formed key a new one.
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    # A field people never see; bots fill it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.fields["website"].widget.attrs.update(
            {"autocomplete": "off", "tabindex": "-1", "class": "form-control"}
        )

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise forms.ValidationError(
                _("This form could not be sent. Leave the last field empty and try again.")
            )
        return ""

    def clean_drawn_signature(self) -> bytes | None:
        value = self.cleaned_data["drawn_signature"]
        if not value:
            return None
        error = forms.ValidationError(
            _("The drawn signature could not be read; clear it and draw again, or leave it out.")
        )
        if not value.startswith(DATA_URL_PREFIX):
            raise error
        try:
            data = base64.b64decode(value[len(DATA_URL_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise error from None
        if len(data) > settings.SIGNATURE_MAX_BYTES:
            raise forms.ValidationError(_("The drawn signature is too large."))
        if not data.startswith(PNG_MAGIC) or not _is_png(data):
            raise error
        return data

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        kind = cleaned.get("kind")
        if kind == RequestKind.RECTIFICATION:
            for name in ["rectification_what", "rectification_correct", "rectification_grounds"]:
                if not cleaned.get(name, "").strip():
                    self.add_error(
                        name, _("A rectification request names what is wrong, what it should be and why.")
                    )
        if kind == RequestKind.OBJECTION and not cleaned.get("objection_purposes"):
            self.add_error("objection_purposes", _("Tick at least one purpose you forbid."))
        signature, last = cleaned.get("signature_name", ""), cleaned.get("last_name", "")
        if signature and last and last.casefold() not in signature.casefold():
            self.add_error("signature_name", _("Type your full name, as above, as your signature."))
        return cleaned

    def request_fields(self) -> dict:
        data = self.cleaned_data
        names = [
            "kind",
            "first_name",
            "last_name",
            "email",
            "phone",
            "street_address",
            "postal_code",
            "city",
            "reply_language",
            "signature_name",
            "declaration",
        ]
        fields = {name: data[name] for name in names if name in self.fields}
        if data["kind"] == RequestKind.RECTIFICATION:
            fields.update(
                {n: data[n] for n in ["rectification_what", "rectification_correct", "rectification_grounds"]}
            )
        if data["kind"] == RequestKind.OBJECTION:
            fields["objection_purposes"] = list(data["objection_purposes"])
        if data["kind"] == RequestKind.ERASURE:
            fields["no_contact_again"] = data["no_contact_again"]
        return fields


def _is_png(data: bytes) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            # The size comes from the header: check it before anything is decoded.
            if image.format != "PNG" or image.width > 2000 or image.height > 1000:
                return False
            image.verify()  # chunk checksums; raises SyntaxError on a broken file
            return True
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError):
        return False


class IdentityForm(forms.Form):
    method = forms.ChoiceField(label=_("How was the identity verified?"), choices=IdentityMethod.choices)
    note = forms.CharField(
        label=_("How and why (for 'other', and when the e-mail is not the one on record)"),
        max_length=500,
        required=False,
    )

    def __init__(self, *args, data_request: DataRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_request = data_request

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        method, note = cleaned.get("method"), cleaned.get("note", "")
        if method == IdentityMethod.OTHER and not note.strip():
            self.add_error("note", _("Describe how the identity was verified."))
        elif method:
            problem = self.data_request.identity_method_problem(method, note)
            if problem:
                self.add_error("method" if method == IdentityMethod.EMAIL_ON_FILE else "note", problem)
        return cleaned


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"), coerce=int, choices=[(1, _("one month")), (2, _("two months"))]
    )
    reason = forms.CharField(
        label=_("Reason, told to the requester"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, told to the requester"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StepForm(forms.Form):
    """A step with nothing to fill in (start, release, record, anonymise): the button."""


class CompleteForm(forms.Form):
    reason = forms.CharField(
        label=_("Outcome, told to the requester"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LinkCustomersForm(forms.Form):
    """Link the request to the customers it is about: the suggested matches ticked, or a
    customer number typed."""

    customers = forms.TypedMultipleChoiceField(
        label=_(
            "Suggested matches (same e-mail, phone, or name and postal code; only the same e-mail is strong)"
        ),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    extra_customer_id = forms.IntegerField(label=_("Or a customer number"), required=False, min_value=1)

    def __init__(self, *args, suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["customers"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(m.customer.pk, _suggestion_label(m)) for m in suggestions]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        ids = set(cleaned.get("customers") or [])
        extra = cleaned.get("extra_customer_id")
        if extra:
            if not Customer.objects.filter(pk=extra).exists():
                self.add_error("extra_customer_id", _("No customer has the number %(n)s.") % {"n": extra})
            ids.add(extra)
        if not ids and not self.errors:
            raise forms.ValidationError(_("Tick a suggested customer or type a customer number."))
        cleaned["customer_ids"] = sorted(ids)
        return cleaned


def _suggestion_label(match: SuggestedMatch) -> str:
    customer = match.customer
    place = f"{customer.postal_code} {customer.city}".strip()
    label = " · ".join(str(v) for v in [customer, customer.email, customer.phone, place] if v)
    if match.strong:
        strength = _("strong match: same e-mail")
    elif match.same_phone and match.same_name:
        strength = _("WEAK match: same phone number, name and postal code, not the e-mail")
    elif match.same_phone:
        strength = _("WEAK match: same phone number only")
    else:
        strength = _("WEAK match: same name and postal code only")
    return f"{label} — {strength}"


class EraseForm(forms.Form):
    """Erasure cannot be undone: staff type the request's reference to confirm it."""

    confirm_reference = forms.CharField(max_length=16, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, reference: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.reference = reference
        label = _("Type the reference %(ref)s to confirm")
        self.fields["confirm_reference"].label = label % {"ref": reference}

    def clean_confirm_reference(self) -> str:
        typed = self.cleaned_data["confirm_reference"].strip()
        if typed.upper() != self.reference.upper():
            raise forms.ValidationError(
                _("The reference does not match: type %(ref)s exactly as it is shown to erase.")
                % {"ref": self.reference}
            )
        return typed


class RectifyForm(forms.Form):
    """The rectification of one linked customer (GDPR art. 16, 17(1)(a); the notice:
    incorrect, unnecessary, incomplete or out-of-date data is corrected, deleted or
    completed). A typed value corrects or completes a field; deleting a value takes the
    field's own "clear" box, so an input left empty by mistake erases nothing. Each change
    says why. The values are validated with the register's own rules when applied."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(), empty_label=None)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = customers
        for name in RECTIFIABLE_FIELDS:
            label = capfirst(field_label(name))
            self.fields[name] = forms.CharField(label=label, max_length=200, required=False)
            self.fields[f"clear_{name}"] = forms.BooleanField(
                label=_("clear %(field)s") % {"field": field_label(name)}, required=False
            )
            self.fields[f"reason_{name}"] = forms.ChoiceField(
                label=_("why %(field)s is changed") % {"field": field_label(name)},
                choices=[("", "–"), *ChangeReason.choices],
                required=False,
            )

    @property
    def correction_rows(self):
        """One row per field: new value, clear box, reason, and whether it may be cleared."""
        return [
            (self[name], self[f"clear_{name}"], self[f"reason_{name}"], clearable(name))
            for name in RECTIFIABLE_FIELDS
        ]

    def clean(self):
        super().clean()
        if self.errors:
            return self.cleaned_data
        for name in RECTIFIABLE_FIELDS:
            self._check_row(name)
        if not self.errors and not self.changes():
            raise forms.ValidationError(_("Type a new value, or tick a field to clear, in at least one row."))
        return self.cleaned_data

    def _check_row(self, name: str) -> None:
        typed = self.cleaned_data[name].strip()
        cleared = self.cleaned_data[f"clear_{name}"]
        reason = self.cleaned_data[f"reason_{name}"]
        label = capfirst(field_label(name))
        if cleared and not clearable(name):
            self.add_error(
                f"clear_{name}",
                _("%(field)s is required in the register and cannot be cleared: correct it instead.")
                % {"field": label},
            )
        elif typed and cleared:
            self.add_error(f"clear_{name}", _("Type a new value or tick clear, not both."))
        elif (typed or cleared) and not reason:
            self.add_error(
                f"reason_{name}", _("Choose why %(field)s is changed.") % {"field": field_label(name)}
            )
        elif reason and not (typed or cleared):
            self.add_error(
                name, _("Type the new value or tick clear, or leave the reason empty: nothing would change.")
            )
        elif cleared and reason == ChangeReason.INCOMPLETE:
            self.add_error(
                f"reason_{name}",
                _("Data is deleted because it is incorrect, out of date or unnecessary, not incomplete."),
            )

    def changes(self) -> dict[str, str]:
        """The new value of each field to change; an empty one deletes the value."""
        typed = {n: self.cleaned_data[n].strip() for n in RECTIFIABLE_FIELDS if self.cleaned_data[n].strip()}
        cleared = {n: "" for n in RECTIFIABLE_FIELDS if self.cleaned_data.get(f"clear_{n}")}
        return {**typed, **cleared}

    def reasons(self) -> dict[str, str]:
        return {n: self.cleaned_data[f"reason_{n}"] for n in self.changes()}


class NotificationSentForm(forms.Form):
    """Staff told one recipient of the rectification or erasure (art. 19)."""

    notification = forms.ModelChoiceField(
        queryset=Notification.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": _("This recipient is marked told already, or is not on this request.")
        },
    )

    def __init__(self, *args, data_request: DataRequest, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["notification"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = data_request.notifications.filter(sent_at__isnull=True)


class EnrolmentCodeForm(forms.Form):
    """The setup wizard's step before the QR code: the one-time code the owner issued
    (privacy notice S13: the password alone does not enrol a second factor)."""

    code = forms.CharField(
        label=_("Enrolment code"),
        max_length=40,
        help_text=_(
            "The one-time code the owner gave you, e.g. ABCD-EFGH-JKLM. Without it no "
            "authenticator can be linked to your account, so nobody who learns your "
            "password can do it first."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def __init__(self, user, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def clean_code(self) -> str:
        from .enrolment import code_is_valid

        code = self.cleaned_data["code"]
        if not code_is_valid(user=self.user, code=code):
            raise forms.ValidationError(
                _(
                    "This enrolment code does not work: it is mistyped, used already or "
                    "expired (a code lasts 72 hours). Ask the owner for a new one."
                )
            )
        return code


class RegisteredRequestForm(DataRequestForm):
    """A request received by post, e-mail, phone or at the counter, as staff register it
    (privacy notice S14): who asked, with the contact details the web form takes, what
    they asked, when it reached us, and the scanned letter if there is one. The
    requester's own signature is on the letter (or there is none, by phone): the web
    form's typed signature, declaration and bot trap are not asked for."""

    NOT_ASKED = ("signature_name", "declaration", "drawn_signature", "website")

    channel = forms.ChoiceField(
        label=_("Received by"), choices=[c for c in RequestChannel.choices if c[0] != RequestChannel.WEB]
    )
    received_on = forms.DateField(
        label=_("Date received"),
        widget=AdminDateWidget,
        help_text=_(
            "The day the request reached us: the one-month deadline counts from it (GDPR art. 12(3))."
        ),
    )
    scanned_letter = forms.FileField(
        label=_("Scanned letter (optional)"),
        required=False,
        help_text=_("PDF, JPEG or PNG. Kept privately with the request and deleted with its identity data."),
    )

    # The fields in the order staff fill them in, in three groups.
    FIELDSETS = [
        (_("The request"), ["kind", "channel", "received_on", "reply_language", "scanned_letter"]),
        (
            _("Who asked"),
            ["first_name", "last_name", "email", "phone", "street_address", "postal_code", "city"],
        ),
        (
            _("What is asked"),
            [
                "rectification_what",
                "rectification_correct",
                "rectification_grounds",
                "objection_purposes",
                "no_contact_again",
            ],
        ),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        for name in self.NOT_ASKED:
            del fields[name]
        fields["kind"].label = _("Kind of request")
        for name in ("kind", "reply_language"):  # drop-downs, as elsewhere in the admin
            choice = fields[name]
            assert isinstance(choice, forms.ChoiceField)
            choice.widget = forms.Select()
            choice.choices = choice.choices  # the setter hands them to the new widget
        fields["email"] = forms.EmailField(
            label=_("E-mail"),
            max_length=254,
            required=False,
            help_text=_(
                "The answer and the link to the request's status page are sent here. Empty: "
                "the answer goes by post to the address below."
            ),
        )
        for name, label in [
            ("phone", _("Phone")),
            ("street_address", _("Street address")),
            ("postal_code", _("Postal code")),
            ("city", _("City")),
            ("rectification_what", _("What is wrong (rectification)")),
            ("rectification_correct", _("What it should be (rectification)")),
            ("rectification_grounds", _("Grounds (rectification)")),
            ("objection_purposes", _("Purposes objected to (objection)")),
            ("no_contact_again", _("Do not contact again (erasure)")),
        ]:
            fields[name].label = label
        fields["no_contact_again"].help_text = ""

    def clean_received_on(self):
        import datetime

        from django.utils import timezone

        received_on = self.cleaned_data["received_on"]
        today = timezone.localdate()
        if received_on > today:
            raise forms.ValidationError(_("The date received cannot be in the future."))
        if received_on < today - datetime.timedelta(days=366):
            raise forms.ValidationError(_("The date received is over a year ago: check the year."))
        return received_on

    def clean_scanned_letter(self):
        from .letter_scans import ScanRefused, scan_kind

        upload = self.cleaned_data.get("scanned_letter")
        if upload:
            try:
                scan_kind(upload)
            except ScanRefused as refused:
                raise forms.ValidationError(refused.message) from None
        return upload

    def clean(self):
        cleaned = super().clean()
        postal = all(cleaned.get(n, "").strip() for n in ["street_address", "postal_code", "city"])
        if not self.errors and not cleaned.get("email") and not postal:
            raise forms.ValidationError(
                _("Give an e-mail address or the full postal address: the answer must reach the requester.")
            )
        return cleaned

    def request_fields(self) -> dict:
        # No typed signature: the letter carries the requester's own, or there is none.
        return {**super().request_fields(), "signature_name": "", "declaration": False}
