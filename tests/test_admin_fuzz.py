"""No 500 for anything a staff member can type or craft (issue 17, item 7): every
registered admin's list with hostile values in its search, each of its filters, its
ordering, page and date hierarchy; the autocomplete behind it; its object pages with odd
ids; its actions and its add and change forms with crafted values; and the staff pages of
their own (labels, audit export, request documents). Run on SQLite and PostgreSQL: they
fail on different input (PostgreSQL rejects a NUL byte in any text it is sent, SQLite a
number past its integer)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.translation import override

from customers.models import Customer
from privacy.hostile_input import INVALID_FILTERS_MESSAGE
from privacy.models import DataRequest
from tests.factories import (
    CustomerFactory,
    DataRequestFactory,
    DisclosureFactory,
    EmailMarketingConsentFactory,
    MarketingObjectionFactory,
    OrderFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db

NUL = "\x00"
HUGE = "99999999999"  # a year of 11 digits, an id past a 32-bit integer
# What a hand-edited address may hold: NUL bytes, numbers past any database's integer,
# years past the calendar's, digits of other scripts, broken dates, quoting characters.
HOSTILE = [
    f"1{NUL}",
    HUGE,
    "9223372036854775808",
    "-9223372036854775809",
    "9999",
    "-1",
    "٣",
    "３",
    "²",
    "1e999",
    "2026-02-30",
    "'%\\(",
    "x" * 1000,
]
# What every list reads besides its filters: ordering, page, show all, facets, popup and
# the field a popup returns; and lookups Django accepts on any field of the model.
COMMON = ["o", "p", "all", "_facets", "_popup", "_to_field", "pk", "id__in", "id__range"]


def _failure(response, *where) -> tuple | None:
    """A 500, or a page that shows a traceback; else None. A download is read to its end
    (an export queries as it streams)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.status_code < 500 and b"Traceback" not in body:
        return None
    exc_info = getattr(response, "exc_info", None)
    return (*where, response.status_code, repr(exc_info[1])[:120] if exc_info else "")


@pytest.fixture
def fuzz_client(owner_client):
    """The owner, with every 500 answered as a response the test can collect."""
    owner_client.raise_request_exception = False
    return owner_client


@pytest.fixture
def some_rows():
    organisation = OrganisationFactory()
    customer = CustomerFactory(organisation=organisation)
    OrderFactory(customer=customer)
    MarketingObjectionFactory(customer=customer)
    EmailMarketingConsentFactory(customer=customer)
    DisclosureFactory(customer=customer)
    DataRequestFactory()


def _registry():
    registry = list(admin.site._registry.values())
    assert len(registry) >= 12  # the walk reaches every admin, so new ones are covered
    return registry


def _url(model_admin, view: str, *args) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _list_parameters(client, model_admin) -> list[str]:
    """The query parameters the list reads, from the list's own filters as the page
    built them, its date hierarchy and search, and those every list reads."""
    response = client.get(_url(model_admin, "changelist"))
    assert response.status_code == 200
    changelist = response.context["cl"]
    names = [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    if changelist.date_hierarchy:
        names += [f"{changelist.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    if changelist.search_fields:
        names.append("q")
    # A pattern the database cannot compile, on a text field.
    fields = model_admin.model._meta.concrete_fields
    names += [f"{f.name}__regex" for f in fields if f.get_internal_type() == "CharField"][:1]
    return [*names, *COMMON]


def test_no_admin_list_fails_on_a_hostile_address(fuzz_client, some_rows):
    """The lists walked from the admin site's registry, so a new admin is covered too."""
    failures = []
    for model_admin in _registry():
        url = _url(model_admin, "changelist")
        names = _list_parameters(fuzz_client, model_admin)
        # Each of the list's own parameters alone with a number out of every range (the
        # date hierarchy's year among them), then all at once with each hostile value.
        queries = [{name: HUGE} for name in names if name not in COMMON]
        queries += [dict.fromkeys(names, value) for value in HOSTILE]
        # Ordering by a column the list does not have, pages before the first and past the last.
        odd = ("99", "abc", "-1", "1.-2.٣", "99999999")
        queries += [{name: value} for name in ("o", "p") for value in odd]
        queries += [{NUL: "1"}, {f"q{NUL}": "1"}]  # a NUL in a name
        queries += [{"e": "1", **dict.fromkeys(names, HUGE)}]  # filters refused, and the address says so
        for query in queries:
            failures.append(_failure(fuzz_client.get(url, query), url, repr(query)[:60]))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(map(repr, failures))


def test_a_hostile_address_is_answered_with_a_message(fuzz_client, some_rows):
    """What the staff member sees: a 400 that says what is wrong with the address, or the
    list without the filters it could not apply and a message saying so."""
    customers = reverse("admin:customers_customer_changelist")
    response = fuzz_client.get(customers, {"q": f"Virtanen{NUL}"})
    assert response.status_code == 400
    assert "NUL" in response.text
    assert fuzz_client.get(f"/fi/privacy/status/x{NUL}y/").status_code == 400  # a public page too

    with override("fi"):  # the admin's language
        message = escape(str(INVALID_FILTERS_MESSAGE))
    orders = reverse("admin:customers_order_changelist")
    response = fuzz_client.get(orders, {"ordered_on__year": HUGE}, follow=True)
    assert response.status_code == 200
    assert message in response.text
    # A pattern neither database can compile.
    response = fuzz_client.get(customers, {"email__regex": "("}, follow=True)
    assert response.status_code == 200
    assert message in response.text

    # The address already says the filters were refused (?e=1): a page that says why,
    # not Django's "something's wrong with your database installation".
    response = fuzz_client.get(orders, {"e": "1", "ordered_on__year": HUGE})
    assert response.status_code == 200
    assert "Osoitteen rajauksia ei voitu käyttää" in response.text

    # An action on crafted row ids does nothing and says so.
    response = fuzz_client.post(
        customers, {"action": "erase_customers", "_selected_action": "²", "index": "0"}, follow=True
    )
    assert response.status_code == 200
    assert "Valitut rivit eivät kelpaa" in response.text
    assert Customer.objects.count() == 1


def test_no_autocomplete_fails_on_a_hostile_term(fuzz_client, some_rows):
    autocomplete = reverse("admin:autocomplete")
    sources = [
        {"app_label": ma.model._meta.app_label, "model_name": ma.model._meta.model_name, "field_name": field}
        for ma in _registry()
        for field in ma.get_autocomplete_fields(None)
    ]
    assert sources  # the customer's organisation at least
    failures = []
    for source in sources:
        response = fuzz_client.get(autocomplete, {**source, "term": "Hyv"})
        assert response.status_code == 200
        for value in HOSTILE:
            for query in ({"term": value}, {"term": "Hyv", "page": value}, {"field_name": value}):
                response = fuzz_client.get(autocomplete, {**source, **query})
                failures.append(_failure(response, repr(query)[:60]))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(map(repr, failures))


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_no_object_page_fails_on_an_odd_id(fuzz_client, some_rows):
    """Change, history and delete pages with ids in other digits, past any integer, or
    with a NUL byte (whether they 404 or redirect is another test's business)."""
    failures = []
    for model_admin in _registry():
        odd_ids = ["²", "-1", HUGE, "9223372036854775808", "1\x00"]
        row = model_admin.model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if isinstance(row, int):  # an existing row's id in Arabic-Indic and full-width digits
            odd_ids += [str(row).translate(ARABIC_INDIC), str(row).translate(FULL_WIDTH)]
        for view in ("change", "history", "delete"):
            for object_id in odd_ids:
                try:
                    url = _url(model_admin, view, object_id)
                except NoReverseMatch:
                    continue
                failures.append(_failure(fuzz_client.get(url), url))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(map(repr, failures))


def test_no_staff_page_of_its_own_fails_on_a_hostile_address(fuzz_client, some_rows):
    data_request = DataRequest.objects.get()
    pages = {
        reverse("admin:customers_customer_labels"): [
            "postal_code_from",
            "postal_code_to",
            "city",
            "last_purchase_since",
            "organisation",
            "export",
        ],
        reverse("admin:privacy_auditevent_export"): ["occurred_at__year", "action", "id__in", "q", "o"],
        reverse("admin:customers_customer_import"): ["format"],
        reverse("admin:customers_customer_banlist"): ["q"],
        reverse("admin:privacy_datarequest_letter", args=[data_request.pk]): ["n"],
        reverse("admin:index"): ["q"],
    }
    failures = []
    for url, names in pages.items():
        for value in HOSTILE:
            for query in [{name: value} for name in names]:
                failures.append(_failure(fuzz_client.get(url, query), url, repr(query)[:60]))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(map(repr, failures))


# Row ids an action may be posted with: not a number, not an integer, past the integer.
SELECTED = [f"1{NUL}", "abc", "²", "1,2", "1e999", "9223372036854775808", "-9223372036854775809", "-1"]


def test_no_admin_action_fails_on_hostile_selected_rows(fuzz_client, some_rows):
    """An action posted with crafted row ids (the checkboxes' values) or action name."""
    failures = []
    for model_admin in _registry():
        url = _url(model_admin, "changelist")
        names = list(model_admin.get_actions(fuzz_client.get(url).wsgi_request)) or ["none"]
        posts = [(action, value) for action in names for value in SELECTED]
        posts += [(f"x{NUL}", "1"), ("no-such-action", "1")]
        for action, value in posts:
            data = {"action": action, "_selected_action": value, "index": "0"}
            failures.append(_failure(fuzz_client.post(url, data), url, action, repr(value)[:20]))
        data = {"action": names[0], "_selected_action": "1", "index": "99999999999", "select_across": "٣"}
        failures.append(_failure(fuzz_client.post(url, data), url, "index"))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(map(repr, failures))


def _form_pages(client, model_admin):
    """The add page and an existing row's change page, where the owner may open them."""
    urls = []
    try:
        urls.append(_url(model_admin, "add"))
    except NoReverseMatch:
        pass
    row = model_admin.model._default_manager.order_by("pk").first()
    if row is not None:
        urls.append(_url(model_admin, "change", row.pk))
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and "adminform" in response.context:
            yield url, response.context


def test_no_admin_form_fails_on_hostile_values(fuzz_client, some_rows):
    """Every field of every add and change form posted with a value that is not an id,
    a number past the integer (the groups and permissions of a staff account), an odd
    digit or a NUL byte: the form's errors, never a 500."""
    failures = []
    for model_admin in _registry():
        for url, context in _form_pages(fuzz_client, model_admin):
            for value in (f"x{NUL}", "abc", "9223372036854775808", "²"):
                data = dict.fromkeys(context["adminform"].form.fields, value)
                # The inlines' form counts: not numbers (a huge count is capped by Django at
                # a thousand forms, not a 500, but slow to render).
                count = "abc" if value.isdigit() else value
                for inline in context["inline_admin_formsets"]:
                    management = inline.formset.management_form
                    data.update({management.add_prefix(name): count for name in management.fields})
                failures.append(_failure(fuzz_client.post(url, data), url, repr(value)))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n".join(map(repr, failures))
