"""The access report: everything held about a person (GDPR art. 15; privacy notice S16),
in a readable PDF and in machine-readable JSON (art. 20, portability).

The report explains, as art. 15(1)(a)-(h) asks: purposes, categories,
recipients, retention, rights, the right to complain, the source, and that
no automated decisions are made.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import (
    Customer,
    CustomerChange,
    Disclosure,
    DisclosureCategory,
    EmailMarketingConsent,
    MarketingObjection,
    ObjectionPurpose,
    Order,
    Source,
)

from .personal_data import report_fields

# What the report shows of each model is declared in privacy/personal_data.py (`report`).
CUSTOMER_FIELDS = report_fields(Customer)
ORDER_FIELDS = report_fields(Order)
OBJECTION_FIELDS = report_fields(MarketingObjection)
CONSENT_FIELDS = report_fields(EmailMarketingConsent)
DISCLOSURE_FIELDS = report_fields(Disclosure)
CHANGE_FIELDS = report_fields(CustomerChange)


def _value(obj, name: str):
    value = getattr(obj, name)
    if isinstance(value, Model):  # a link (the organisation represented): its own report fields
        return _row(value, report_fields(type(value)))
    if name == "phone":
        return str(value) if value else ""
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, names: list[str]) -> dict:
    row = {name: _value(obj, name) for name in names}
    for name in names:  # a readable label beside every coded value
        display = getattr(obj, f"get_{name}_display", None)
        if display is not None:
            row[f"{name}_label"] = str(display())
    return row


def _customers(customers: Iterable[Customer] | list[int]):
    pks = [c.pk if isinstance(c, Customer) else c for c in customers]
    return (
        Customer.objects.filter(pk__in=pks)
        .select_related("organisation")
        .prefetch_related(
            Prefetch("orders"),
            Prefetch("objections"),
            Prefetch("email_consents"),
            Prefetch("disclosures"),
            Prefetch("changes"),
        )
        .order_by("pk")
    )


def processing_information() -> dict:
    """Art. 15(1)(a)-(h) in the current language: what the register does and why."""
    return {
        "purposes": [
            _(
                "Keeping the customer register, managing and archiving orders, and looking after "
                "the customer relationship."
            ),
            _("Developing the business and statistics, on anonymised data where possible."),
            _("Mailing lists and labels for direct advertising, unless the customer forbids it."),
        ],
        "legal_bases": [
            _("Contract and customer relationship (GDPR art. 6(1)(b)) for customers and orders."),
            _("Legal obligation (art. 6(1)(c)): the Accounting Act 1336/1997 for orders and invoices."),
            _(
                "Legitimate interest (art. 6(1)(f)) for postal direct marketing, which anyone may "
                "forbid at any time (art. 21(2)-(3))."
            ),
            _("Consent (art. 6(1)(a); Act 917/2014 s. 200) for e-mail marketing."),
        ],
        "recipients": [str(label) for label in DisclosureCategory.labels],
        "retention": [
            _(
                "Customer data: while the customer relationship lasts and %(years)s years from the "
                "last activity; then it is anonymised."
            )
            % {"years": settings.RETENTION_YEARS},
            _(
                "Orders and invoices: %(years)s years from the end of the year in which the "
                "financial year ended (Accounting Act 1336/1997, chapter 2, section 10)."
            )
            % {"years": settings.BOOKKEEPING_RETENTION_YEARS},
        ],
        "sources": [str(label) for label in Source.labels],
        "rights": [
            _("Right of access (art. 15) and to data portability (art. 20)."),
            _("Right to rectification (art. 16)."),
            _(
                "Right to erasure (art. 17) and to anonymisation, unless the law, open invoices or "
                "debt collection prevent it."
            ),
            _(
                "Right to object to direct marketing, distance selling, market and opinion "
                "research and publication in mailing lists (art. 21): %(purposes)s."
            )
            % {"purposes": ", ".join(str(label) for label in ObjectionPurpose.labels)},
            _("Requests are answered free of charge within one month (art. 12(3) and (5))."),
        ],
        "complaint": _(
            "You may complain to the Office of the Data Protection Ombudsman "
            "(Tietosuojavaltuutetun toimisto), PO Box 800, 00531 Helsinki, "
            "tietosuoja.fi (art. 77)."
        ),
        "automated_decisions": _("No automated decisions or profiling with legal effects (art. 22)."),
        "transfers": _("Data is not transferred outside the EU or EEA."),
    }


def build_access_report(
    customers: Iterable[Customer] | list[int], *, language: str, controller: dict | None = None
) -> dict:
    """Everything held about the given customers, in a fixed number of queries."""
    with translation.override(language):
        people = []
        for customer in _customers(customers):
            person = _row(customer, CUSTOMER_FIELDS)
            person["age_band"] = customer.age_band
            people.append(
                {
                    "customer_id": customer.pk,
                    "customer": person,
                    "orders": [_row(o, ORDER_FIELDS) for o in customer.orders.all()],
                    "marketing_objections": [_row(o, OBJECTION_FIELDS) for o in customer.objections.all()],
                    "email_marketing_consents": [
                        _row(c, CONSENT_FIELDS) for c in customer.email_consents.all()
                    ],
                    "disclosures": [_row(d, DISCLOSURE_FIELDS) for d in customer.disclosures.all()],
                    "changes": [_row(c, CHANGE_FIELDS) for c in customer.changes.all()],
                }
            )
        return {
            "report": {
                "title": _("Access report"),
                "generated_at": timezone.now(),
                "language": language,
                "controller": controller or {},
            },
            "data_subjects": people,
            "processing": processing_information(),
        }


def report_json(report: dict) -> bytes:
    return json.dumps(report, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def report_document(report: dict) -> dict:
    """The report as the requester gets it: its JSON, read back (dates as ISO strings,
    sums as decimal strings). A released report is stored so."""
    return json.loads(report_json(report))


def report_pdf(report: dict, *, template: str = "privacy/access_report.html") -> bytes:
    """The readable report, always rendered from the JSON document: the staff preview of
    a fresh report and the requester's released copy print the same values."""
    from weasyprint import HTML  # imported late: it loads Pango and fonts

    document = report_document(report)
    with translation.override(document["report"]["language"]):
        html = render_to_string(template, {"report": document, "today": datetime.date.today()})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
