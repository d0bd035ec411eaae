"""The request page's steps in the order of work (issue 12, item 5): verify the identity,
link the customers, fulfil, answer. Each is done (and says what was recorded), next (the
one to take now, as privacy.today.next_step names it on the front page) or not yet (and
says why it cannot be taken yet); and what staff are told when they take a step, or why
it could not be taken, in their own language."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, ngettext

from ..models import DataRequest, RequestKind, RequestStatus
from ..today import STEPS, next_step, next_step_key


def _date(value) -> str:
    return value.strftime("%-d.%-m.%Y") if value else ""


@dataclass(frozen=True)
class WorkStep:
    key: str
    number: int
    title: str
    done: bool
    is_next: bool
    said: str  # what was recorded (done), what to do (next), or why not yet

    @property
    def css(self) -> str:
        return "step-done" if self.done else "step-next" if self.is_next else "step-todo"


def _titles(data_request: DataRequest) -> dict[str, str]:
    return {
        "verify": gettext("Verify the identity"),
        "link": gettext("Link the customers"),
        "fulfil": gettext("Fulfil the request"),
        "answer": gettext("Answer the requester"),
    }


def work_steps(data_request: DataRequest) -> list[WorkStep]:
    linked = data_request.customers.count()
    upcoming = next_step_key(data_request, linked)
    closed = not data_request.is_open
    erased_customer = closed and data_request.kind in (RequestKind.ERASURE, RequestKind.ANONYMISATION)
    verified = data_request.identity_verified_at is not None
    released = data_request.kind == RequestKind.ACCESS and data_request.report_released_at is not None
    done = {
        "verify": verified,
        "link": bool(linked) or (erased_customer and data_request.status == RequestStatus.COMPLETED),
        "fulfil": released or data_request.status in (RequestStatus.COMPLETED, RequestStatus.WAITING),
        "answer": closed or data_request.status == RequestStatus.WAITING,
    }
    said = {}
    if verified:
        method = data_request.get_identity_method_display() if data_request.identity_method else ""
        said["verify"] = gettext("Identity verified on %(date)s, method: %(method)s") % {
            "date": _date(data_request.identity_verified_at),
            "method": method or "–",
        }
    else:
        said["verify"] = gettext("Not verified yet.")
    if linked:
        said["link"] = ngettext("%(n)s customer linked.", "%(n)s customers linked.", linked) % {"n": linked}
    elif done["link"]:
        said["link"] = (
            gettext("The customer is erased from the register.")
            if data_request.kind == RequestKind.ERASURE
            else gettext("The customer is anonymised.")
        )
    else:
        said["link"] = gettext("No customer linked yet.")
    if released:
        said["fulfil"] = gettext("Report released on %(date)s for the requester to download.") % {
            "date": _date(data_request.report_released_at)
        }
    elif data_request.status == RequestStatus.WAITING:
        said["fulfil"] = gettext("The erasure waits for a legal hold to end.")
    elif data_request.status == RequestStatus.COMPLETED:
        said["fulfil"] = gettext("Done on %(date)s.") % {"date": _date(data_request.closed_at)}
    elif closed:
        said["fulfil"] = gettext("Not fulfilled: the request is “%(status)s”.") % {
            "status": data_request.get_status_display()
        }
    elif not verified:
        said["fulfil"] = gettext("Not yet: verify the identity first.")
    elif not linked:
        said["fulfil"] = gettext("Not yet: link the request to the customer first.")
    else:
        said["fulfil"] = next_step(data_request, linked) + "."
    if closed:
        said["answer"] = gettext("%(status)s on %(date)s; the requester is told.") % {
            "status": data_request.get_status_display(),
            "date": _date(data_request.closed_at),
        }
    elif data_request.status == RequestStatus.WAITING:
        said["answer"] = gettext("The requester is told the erasure waits, and will be told when it is done.")
    elif upcoming == "answer":
        said["answer"] = gettext("Complete the request, refuse it, or extend its deadline.")
    else:
        said["answer"] = gettext(
            "After fulfilling: complete the request, or refuse it or extend its deadline at any time."
        )
    titles = _titles(data_request)
    return [
        WorkStep(key, number, titles[key], done[key], key == upcoming and not done[key], said[key])
        for number, key in enumerate(STEPS, start=1)
    ]


def done_message(data_request: DataRequest, name: str, form) -> str:
    """What staff are told once a step is taken: what happened."""
    if name == "verify":
        return gettext("Identity verified (method: %(method)s).") % {
            "method": data_request.get_identity_method_display()
        }
    if name == "link":
        count = len(form.cleaned_data.get("customer_ids") or [])
        return ngettext(
            "%(n)s customer linked to the request.", "%(n)s customers linked to the request.", count
        ) % {"n": count}
    if name == "release":
        return gettext(
            "Report released for the requester to download until %(date)s; the request is completed."
        ) % {"date": _date(data_request.report_expires_at)}
    if name == "extend":
        return gettext("Deadline extended to %(date)s; the requester is told why.") % {
            "date": _date(data_request.due_date)
        }
    messages = {
        "start": gettext("The request is marked in progress."),
        "refuse": gettext("Request refused; the requester is told the reasons."),
        "complete": gettext("Request completed; the requester is told."),
        "objection": gettext("The objections are recorded and in force; the request is completed."),
        "anonymise": gettext("The customer is anonymised and the request completed."),
        "erase": gettext("The customer is erased and the request completed."),
        "rectify": gettext("The correction is applied. Tell the recipients listed below."),
        "notified": gettext("The recipient is marked told."),
    }
    return messages[name]


def why_not(data_request: DataRequest, name: str) -> str:
    """Why a step cannot be taken in the request's state (nothing was changed)."""
    if not data_request.is_open:
        return gettext("Nothing was changed: the request is “%(status)s” already.") % {
            "status": data_request.get_status_display()
        }
    if data_request.status == RequestStatus.WAITING and name in ("start", "erase", "anonymise"):
        return gettext("Nothing was changed: the erasure waits for a legal hold to end.")
    if name == "release" and data_request.report_released_at:
        return gettext("Nothing was changed: the report is released already.")
    if name == "refuse" and not data_request.refusable:
        return gettext("An objection to direct marketing cannot be refused.")
    if name == "extend":
        return gettext("Nothing was changed: the deadline is extended already, or its first month is over.")
    fits = {
        "release": RequestKind.ACCESS,
        "rectify": RequestKind.RECTIFICATION,
        "objection": RequestKind.OBJECTION,
        "anonymise": RequestKind.ANONYMISATION,
        "erase": RequestKind.ERASURE,
    }
    if name in fits and data_request.kind != fits[name]:
        return gettext("This step does not fit a request of kind “%(kind)s”.") % {
            "kind": data_request.get_kind_display()
        }
    if name in fits and not data_request.customers.exists():
        return gettext("Link the request to the customer first.")
    return gettext("That step does not fit the request's status.")
