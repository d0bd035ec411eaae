"""The privacy app in the admin: the data-request inbox, the audit log, staff accounts and
the controller's details. Importing the modules registers their admins."""

from . import (  # noqa: F401
    audit_log,
    controller,
    data_requests,
    legal_holds,
    login_attempts,
    second_factor,
    staff,
)
