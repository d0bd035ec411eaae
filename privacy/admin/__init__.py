"""The privacy app in the admin: the data-request inbox, the audit log, staff accounts and
the controller's details. Importing the modules registers their admins."""

from django.contrib import admin
from post_office import models as post_office

from . import (  # noqa: F401
    audit_log,
    controller,
    data_requests,
    legal_holds,
    login_attempts,
    second_factor,
    staff,
)

# django-post-office's own admin would show each queued mail's address, text and links
# (their tokens): the request's page shows each mail's state instead (privacy/outbox.py).
for _model in (post_office.Email, post_office.Log, post_office.EmailTemplate, post_office.Attachment):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
