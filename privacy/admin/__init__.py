"""The privacy app in the admin: the data-request inbox, the audit log, staff accounts and
the controller's details. Importing the modules registers their admins."""

from . import audit_log, controller, data_requests, login_attempts, second_factor, staff  # noqa: F401
