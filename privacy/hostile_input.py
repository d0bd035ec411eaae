"""What a staff member can type or craft into an address never ends in a 500 (issue 17,
item 7). Each cause is answered once, for the whole site:

- A NUL byte: no page takes one, and PostgreSQL rejects any text that holds one, so a
  `%00` in a search, a filter or an autocomplete term failed deep inside the query. The
  middleware answers any address holding one with a 400 before a view runs.
- A list's filters, which Django turns into a query as given: a year past 9999 in the date
  hierarchy, a number past the database's integer, a regular expression the database
  cannot compile. Every admin's list (ours and the libraries') uses `SafeChangeList`, which
  treats what the database refuses as filters it cannot apply: Django then shows the list
  without them, and the staff member is told why. An action posted with row ids that
  are not ids of the model (`abc`, `²`, a number past the integer) is refused the same way.
- A number past the database's integer in an `in` lookup (SQLite cannot even send it),
  as a form's selected groups or permissions post it: such a number matches no row, as
  Django already answers for `exact` and the comparisons.
- An autocomplete field posted with a value that is not an id: Django's widget looked it
  up to show it again with the form's errors.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.admin import AdminSite, helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models.lookups import In
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

NUL = "\x00"


class RejectNulBytesMiddleware:
    """A 400 for an address whose path or query string holds a NUL byte (`%00`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path or any(
            NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                gettext("The address holds a NUL character, which no page of this site accepts."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class IntegerFieldIn(In):
    """`in` on an integer column, values beyond the database's range left out: they match
    no row (Django's IntegerFieldOverflow does the same for `exact`, `gt` and the like)."""

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


def register_lookups() -> None:
    """Called once from the privacy app's ready()."""
    models.IntegerField.register_lookup(IntegerFieldIn)


class _OnlyValidIds:
    """An autocomplete widget that shows again only the submitted values that are ids."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field  # type: ignore[attr-defined]
        opts = remote.model._meta
        target = opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)

        def is_id(candidate) -> bool:
            try:
                target.run_validators(target.to_python(candidate))
            except ValidationError:
                return False
            return True

        return super().optgroups(name, [v for v in value if is_id(v)], attr)  # type: ignore[misc]


class SafeAutocompleteSelect(_OnlyValidIds, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_OnlyValidIds, AutocompleteSelectMultiple):
    pass


INVALID_FILTERS_MESSAGE = _(
    "The filters in the address could not be applied (a value out of range or not valid): "
    "the list is shown without them."
)
INVALID_SELECTION_MESSAGE = _("The selected rows are not valid: nothing was done.")


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        if self.date_hierarchy:
            self._check_date_hierarchy()
        return super().get_filters(request)

    def _check_date_hierarchy(self) -> None:
        """Django builds the period the date hierarchy shows from the address's year, month
        and day, and fails outside Python's calendar (year 10000, a year of 12 digits)."""
        params = self.params
        field = self.date_hierarchy
        year = params.get(f"{field}__year")
        if year is None:
            return
        month, day = params.get(f"{field}__month"), params.get(f"{field}__day")
        try:
            start = datetime.date(int(year), int(month or 1), int(day or 1))
            # The end of the period, as Django computes it next.
            if day:
                start + datetime.timedelta(days=1)
            elif month:
                start + datetime.timedelta(days=32)
            else:
                start.replace(year=start.year + 1)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        # The first query with the filters applied (the count). What the database refuses
        # (a number past its integer, a broken regular expression) is a filter that cannot
        # be applied. A savepoint keeps a surrounding transaction usable after the error.
        try:
            with transaction.atomic():
                super().get_results(request)
        except (DatabaseError, OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error


class SafeListMixin:
    """Mixed into every registered ModelAdmin by the admin site (privacy.staff)."""

    model: type[models.Model]
    admin_site: AdminSite

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)  # type: ignore[misc]
        if changelist is ChangeList:
            return SafeChangeList
        if issubclass(changelist, SafeChangeList):
            return changelist
        # An admin with its own changelist class: the same checks on top of it.
        return type(changelist.__name__, (SafeChangeList, changelist), {})

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)  # type: ignore[misc]
        except IncorrectLookupParameters:
            messages.warning(request, INVALID_FILTERS_MESSAGE)
            raise

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.run_validators(pk.to_python(value))  # the type, and the database's range
        except ValidationError:
            # Django's changelist then shows the list again, with this message.
            messages.warning(request, INVALID_SELECTION_MESSAGE)
            return None
        return super().response_action(request, queryset)  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and self._autocompleted(db_field, request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and self._autocompleted(db_field, request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    def _autocompleted(self, db_field, request) -> bool:
        return db_field.name in self.get_autocomplete_fields(request)  # type: ignore[attr-defined]
