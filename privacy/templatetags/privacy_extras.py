from django import template

register = template.Library()


@register.filter
def attr_value(obj, name: str):
    """The current value of a field, for showing beside a requested correction."""
    value = getattr(obj, name, "")
    return "–" if value in (None, "") else value
