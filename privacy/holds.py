"""Legal holds that limit erasure (GDPR art. 17(3)(b) and (e); privacy notice S11).

- An open invoice or debt collection blocks erasure of the customer: the
  business has a legal claim to establish (art. 17(3)(e)).
- Orders are accounting vouchers. Kirjanpitolaki 1336/1997, chapter 2,
  section 10: vouchers are kept for six years from the end of the year in
  which the financial year ended (art. 17(3)(b), legal obligation). The
  period and the financial year end are settings.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BOOKKEEPING_HOLD = _("Accounting Act 1336/1997, chapter 2, section 10 (accounting vouchers)")
OPEN_INVOICE_HOLD = _("Open invoice (legal claim, GDPR art. 17(3)(e))")
DEBT_COLLECTION_HOLD = _("Debt collection (legal claim, GDPR art. 17(3)(e))")


def financial_year_end() -> tuple[int, int]:
    try:
        month, day = (int(part) for part in settings.FINANCIAL_YEAR_END.split("-"))
        datetime.date(2001, month, day)  # a non-leap year: 29 February is refused
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured("FINANCIAL_YEAR_END must be MM-DD, e.g. 12-31.") from error
    return month, day


def voucher_kept_until(order_date: datetime.date) -> datetime.date:
    """Last day an order (a voucher) must be kept: the end of the calendar year in which
    its financial year ended, plus the retention period."""
    month, day = financial_year_end()
    fy_end_year = (
        order_date.year if (order_date.month, order_date.day) <= (month, day) else (order_date.year + 1)
    )
    return datetime.date(fy_end_year + settings.BOOKKEEPING_RETENTION_YEARS, 12, 31)


def first_voucher_date_still_held(today: datetime.date | None = None) -> datetime.date:
    """Orders dated on or after this day are still under the bookkeeping hold.

    Equivalent to `voucher_kept_until(d) >= today`, in a form a query can use.
    """
    today = today or timezone.localdate()
    month, day = financial_year_end()
    oldest_held_fy_end_year = today.year - settings.BOOKKEEPING_RETENTION_YEARS
    return datetime.date(oldest_held_fy_end_year - 1, month, day) + datetime.timedelta(days=1)
