"""Order numbers given in sequence (issue 12, item 3): the next one continues the last
order's number (`DEMO-0005000` -> `DEMO-0005001`, `2026-17` -> `2026-18`), is shown in the
new order's form and may be changed there before saving. Two staff members who open the
form at once are offered the same number: the one who saves second gets the next free
one, and is told (customers.admin.OrderAdmin)."""

from __future__ import annotations

import re

from .models import Order

TRAILING_NUMBER = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")
FIRST_NUMBER = "1"
# How far back to look for a number that ends in digits (the latest orders, by entry).
LOOK_BACK = 20


def next_order_number() -> str:
    latest = Order.objects.order_by("-pk").values_list("order_number", flat=True)[:LOOK_BACK]
    for number in latest:
        match = TRAILING_NUMBER.match(number)
        if match:
            return _first_free(match["prefix"], int(match["digits"]) + 1, len(match["digits"]))
    return _first_free("", int(FIRST_NUMBER), 1)


def _first_free(prefix: str, start: int, width: int) -> str:
    """The first number from `start` on that no order has (a number typed by hand may
    have taken the next few)."""
    candidates = [f"{prefix}{n:0{width}d}" for n in range(start, start + 50)]
    taken = set(Order.objects.filter(order_number__in=candidates).values_list("order_number", flat=True))
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    return _first_free(prefix, start + 50, width)
