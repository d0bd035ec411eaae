from django import template

register = template.Library()


@register.filter
def attr_value(obj, name: str):
    """The current value of a field, for showing beside a requested correction."""
    value = getattr(obj, name, "")
    return "–" if value in (None, "") else value


@register.filter
def days_text(days: int) -> str:
    """Days to a deadline in words: "4 päivää myöhässä", "tänään", "3 päivää jäljellä"."""
    from ..today import days_text as in_words

    return in_words(days)
