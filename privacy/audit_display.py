"""The audit log as people read it: who by name, what object by its name, which fields and
counts in words, resolved when a page is shown.

The log itself keeps ids only (privacy.models.AuditEvent: a staff user's number, an
object's type and id, field names and counts, never a value). Names are looked up here, at
display time, with one query per page for the staff users and one per object type, so
deleting a user or erasing a customer leaves the log intact and the page says what is
left ("deleted user no. 5", "customer no. 12, no longer in the register").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ActorType, AuditEvent

# Field names in events that are not a model's field: a file format, a list kind.
PSEUDO_FIELDS: dict[str, Promise] = {
    "labels_csv": _("mailing labels as CSV"),
    "labels_excel_csv": _("mailing labels as CSV for Excel"),
    "labels_xlsx": _("mailing labels as XLSX"),
    "labels_pdf": _("mailing labels as PDF"),
    "ban_list": _("ban list"),
    "people.organisation": _("people's organisation"),
}

# What each count of an event counts (the keys the code writes; see record(counts=...)).
COUNT_LABELS: dict[str, Promise] = {
    "rows": _("rows"),
    "new": _("new"),
    "updated": _("updated"),
    "unchanged": _("unchanged"),
    "invalid": _("not valid"),
    "skipped": _("skipped"),
    "conflicts": _("conflicts"),
    "left_out_suppressed": _("left out: asked not to be contacted"),
    "left_out_objection": _("left out: objection"),
    "left_out_anonymised": _("left out: anonymised"),
    "left_out_incomplete": _("left out: incomplete address"),
    "customers": _("customers"),
    "organisations": _("organisations"),
    "people_detached": _("people detached from the organisation"),
    "already_anonymised": _("already anonymised"),
    "blocked": _("blocked by a legal hold"),
    "matched": _("matched"),
    "near_matches": _("near matches"),
    "not_in_register": _("not in the register"),
    "recorded": _("recorded"),
    "already_in_force": _("already in force"),
    "holds": _("legal holds"),
    "addresses": _("addresses"),
    "scanned_letter": _("scanned letter"),
    "recipients": _("recipients"),
    "orders_cleared": _("orders cleared"),
    "disclosures_cleared": _("disclosures cleared"),
    "deleted_orders": _("orders deleted"),
    "deleted_objections": _("objections deleted"),
    "deleted_consents": _("consents deleted"),
    "deleted_request_identities": _("request identities deleted"),
    "deleted_admin_history": _("admin history entries deleted"),
    "deleted_customer": _("customer deleted"),
    "kept_orders": _("orders kept for bookkeeping"),
    "kept_suppression": _("kept: wish not to be contacted"),
    "customers_anonymised_for_inactivity": _("customers anonymised for inactivity"),
    "inactive_customers_held_by_open_invoice": _("inactive customers kept for an open invoice"),
    "inactive_customers_held_by_debt_collection": _("inactive customers kept for debt collection"),
    "orders_detached_from_purchase_history": _("orders detached from purchase history"),
    "held_orders_deleted": _("kept orders deleted"),
    "waiting_erasures_completed": _("waiting erasures completed"),
    "waiting_erasures_still_held": _("waiting erasures still held"),
    "waiting_erasures_released_request_closed": _("waiting erasures released, request closed"),
    "unconfirmed_requests_deleted": _("unconfirmed requests deleted"),
    "request_identities_cleared": _("request identities cleared"),
    "expired_sessions_deleted": _("expired sessions deleted"),
    "import_uploads_deleted": _("import files deleted"),
}


@dataclass(frozen=True)
class ReadableEvent:
    actor: str
    object_name: str
    object_url: str  # "" when the object is gone or has no admin page
    fields: str
    counts: str

    @property
    def object_html(self) -> SafeString:
        if self.object_url:
            return format_html('<a href="{}">{}</a>', self.object_url, self.object_name)
        return format_html("{}", self.object_name)


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def model_name(object_type: str) -> str:
    model = _model(object_type)
    return str(model._meta.verbose_name) if model else object_type


def _actor_names(events: Sequence[AuditEvent]) -> dict[int, str]:
    ids = {e.actor_id for e in events if e.actor_type == ActorType.STAFF and e.actor_id is not None}
    names = {}
    for user in get_user_model().objects.filter(pk__in=ids).only("username", "first_name", "last_name"):
        full = user.get_full_name()
        names[user.pk] = f"{full} ({user.get_username()})" if full else user.get_username()
    return names


def _object_names(events: Sequence[AuditEvent]) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, id) -> (name, admin url), one query per object type on the page."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.object_type and event.object_id:
            wanted[event.object_type].add(event.object_id)
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for object_type, ids in wanted.items():
        model = _model(object_type)
        if model is None:
            continue
        pks = []
        for raw in ids:
            try:
                pks.append(model._meta.pk.to_python(raw))
            except ValidationError:  # an id of another shape: shown as "no longer in the register"
                pass
        for obj in model._base_manager.filter(pk__in=pks):
            try:
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
            except NoReverseMatch:
                url = ""
            found[(object_type, str(obj.pk))] = (str(obj), url)
    return found


def _actor(event: AuditEvent, names: dict[int, str]) -> str:
    if event.actor_type == ActorType.STAFF:
        if event.actor_id in names:
            return names[event.actor_id]
        return gettext("deleted user no. %(id)s") % {"id": event.actor_id}
    if event.actor_type == ActorType.DATA_SUBJECT:
        return gettext("the data subject (public pages)")
    return gettext("the system")


def _object(event: AuditEvent, found: dict[tuple[str, str], tuple[str, str]]) -> tuple[str, str]:
    if not event.object_type:
        return "", ""
    kind = model_name(event.object_type)
    if not event.object_id:
        return kind, ""
    if (event.object_type, event.object_id) in found:
        name, url = found[(event.object_type, event.object_id)]
        return f"{kind}: {name}", url
    return gettext("%(kind)s no. %(id)s, no longer in the register") % {
        "kind": kind,
        "id": event.object_id,
    }, ""


def field_names(object_type: str, fields: Iterable[str]) -> str:
    model = _model(object_type)
    words = []
    for name in fields:
        if name in PSEUDO_FIELDS:
            words.append(str(PSEUDO_FIELDS[name]))
            continue
        try:
            field = model._meta.get_field(name) if model else None
        except FieldDoesNotExist:
            field = None
        verbose = getattr(field, "verbose_name", None)
        words.append(str(verbose) if verbose else name.replace("_", " "))
    return ", ".join(words)


def count_text(counts: dict) -> str:
    """"rows: 88 000, left out: objection: 12" in the active language; zeros left out."""
    parts = []
    for key, value in counts.items():
        if not value:
            continue
        label = COUNT_LABELS.get(key)
        name = label if label else key.replace("_", " ")
        parts.append(f"{name}: {number_format(value, force_grouping=True)}")
    return ", ".join(parts)


def readable(events: Sequence[AuditEvent]) -> list[ReadableEvent]:
    """Each event of a page in words, in the order given."""
    names, found = _actor_names(events), _object_names(events)
    out = []
    for event in events:
        object_name, url = _object(event, found)
        out.append(
            ReadableEvent(
                actor=_actor(event, names),
                object_name=object_name,
                object_url=url,
                fields=field_names(event.object_type, event.fields),
                counts=count_text(event.counts),
            )
        )
    return out


def annotate(events: Sequence[AuditEvent]) -> list[AuditEvent]:
    """The page's events, each with `.readable` set (what the admin's columns show)."""
    events = list(events)
    for event, words in zip(events, readable(events), strict=True):
        event.readable = words  # type: ignore[attr-defined]
    return events


def readable_of(event: AuditEvent) -> ReadableEvent:
    words = getattr(event, "readable", None)
    return words if words is not None else readable([event])[0]


# The rows of a customer's own page whose events count as "this customer's" (besides the
# customer itself): the related name on Customer and the label the events carry.
CUSTOMER_ROWS = (
    ("orders", "customers.order"),
    ("objections", "customers.marketingobjection"),
    ("email_consents", "customers.emailmarketingconsent"),
    ("disclosures", "customers.disclosure"),
)


def customer_events(customer) -> models.QuerySet[AuditEvent]:
    """Every event on a customer or on one of their rows (orders, objections, consents,
    disclosures): who has seen or changed this customer. Bounded by the customer's own rows."""
    condition = models.Q(object_type="customers.customer", object_id=str(customer.pk))
    for related, label in CUSTOMER_ROWS:
        manager = getattr(customer, related, None)
        if manager is None:
            continue
        ids = [str(pk) for pk in manager.values_list("pk", flat=True)]
        if ids:
            condition |= models.Q(object_type=label, object_id__in=ids)
    return AuditEvent.objects.filter(condition).order_by("-id")
