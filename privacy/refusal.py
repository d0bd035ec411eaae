"""The written certificate of a refused request (GDPR art. 12(4); privacy notice S18):
staff print it on the request's page, the requester downloads it from the status page."""

from __future__ import annotations

from django.utils import timezone, translation

from .audit import record
from .models import ActorType, AuditAction, ControllerDetails, DataRequest, RequestKind, RequestStatus
from .rectification import refusal_certificate_pdf


def has_certificate(data_request: DataRequest) -> bool:
    return data_request.status == RequestStatus.REFUSED


def certificate_pdf(data_request: DataRequest) -> bytes:
    """The certificate in the request's reply language: what was asked, the reasons and
    the route to the Data Protection Ombudsman."""
    if data_request.kind == RequestKind.RECTIFICATION:
        parts = [
            data_request.rectification_what,
            data_request.rectification_correct,
            data_request.rectification_grounds,
        ]
        requested = "\n".join(p for p in parts if p)
    else:
        with translation.override(data_request.reply_language):
            requested = str(data_request.get_kind_display())
    return refusal_certificate_pdf(
        reference=data_request.reference,
        requester_name=data_request.full_name,
        requested=requested,
        reasons=data_request.refusal_reason,
        received_on=timezone.localdate(data_request.submitted_at),
        controller=ControllerDetails.load().as_letterhead(),
        language=data_request.reply_language,
        rectification=data_request.kind == RequestKind.RECTIFICATION,
    )


def record_certificate_download(data_request: DataRequest) -> None:
    """A download from the status page, audited like the access report's."""
    record(
        action=AuditAction.CERTIFICATE_DOWNLOADED,
        actor_type=ActorType.DATA_SUBJECT,
        obj=data_request,
        fields=["pdf"],
    )
