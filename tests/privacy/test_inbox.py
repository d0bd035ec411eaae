import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.models import DataRequest, RequestStatus
from tests.factories import CustomerFactory, DataRequestFactory
from tests.mailbox import deliver_mail

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [10, 200])
def test_inbox_queries_do_not_grow(owner_client, rows, django_assert_max_num_queries):
    for _ in range(rows):
        DataRequestFactory()
    with django_assert_max_num_queries(16):
        response = owner_client.get(reverse("admin:privacy_datarequest_changelist"))
    assert response.status_code == 200


def test_overdue_requests_stand_out_and_are_counted_on_the_index(owner_client):
    """S16: deadlines are first-class."""
    with time_machine.travel(timezone.now() - datetime.timedelta(days=40)):
        late = DataRequestFactory()
    DataRequestFactory()
    page = owner_client.get(reverse("admin:privacy_datarequest_changelist"))
    assert 'class="overdue"' in page.text and late.reference in page.text
    overdue = owner_client.get(reverse("admin:privacy_datarequest_changelist"), {"deadline": "overdue"})
    assert list(overdue.context["cl"].result_list) == [late]
    index = owner_client.get(reverse("admin:index"))
    assert "2 avointa pyyntöä" in index.text and "1 myöhässä" in index.text


def test_staff_verify_identity_link_customers_and_refuse_with_a_timeline(
    owner_client, django_capture_on_commit_callbacks
):
    """S16: identity verification recorded with its method; matches suggested and linked;
    a refusal needs a reason and is told to the requester."""
    request = DataRequestFactory()
    match = CustomerFactory(email="AINO@example.fi")
    CustomerFactory(email="other@example.fi")
    change = reverse("admin:privacy_datarequest_change", args=[request.pk])
    page = owner_client.get(change)
    assert [m.customer for m in page.context["suggestions"]] == [match]

    owner_client.post(
        reverse("admin:privacy_datarequest_verify", args=[request.pk]), {"method": "other", "note": ""}
    )
    assert DataRequest.objects.get().identity_verified_at is None  # "other" needs a text
    owner_client.post(
        reverse("admin:privacy_datarequest_verify", args=[request.pk]),
        {"method": "email_on_file", "note": ""},
    )
    owner_client.post(
        reverse("admin:privacy_datarequest_link", args=[request.pk]), {"customers": [str(match.pk)]}
    )
    owner_client.post(reverse("admin:privacy_datarequest_refuse", args=[request.pk]), {"reason": ""})
    assert DataRequest.objects.get().status == RequestStatus.IDENTITY_VERIFIED
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("admin:privacy_datarequest_refuse", args=[request.pk]),
            {"reason": "Henkilöllisyys ei täsmää."},
        )
    request = DataRequest.objects.get()
    assert request.status == RequestStatus.REFUSED and list(request.customers.all()) == [match]
    assert request.identity_method == "email_on_file"
    assert [e.action for e in request.events.all()] == [
        "request_submitted",
        "identity_verified",
        "request_linked",
        "request_status",
    ]
    deliver_mail()
    assert "evätty" in mail.outbox[-1].subject  # a refusal says so (issue 18, item 6)
    page = owner_client.get(change)
    assert "Aikajana" in page.text and "Henkilöllisyys ei täsmää." in page.text


def test_workflow_views_refuse_get_and_other_staff_without_commitment(
    client, staff_without_commitment, owner_client
):
    from tests.personas import verified_client

    request = DataRequestFactory()
    url = reverse("admin:privacy_datarequest_refuse", args=[request.pk])
    assert owner_client.get(url).status_code == 405
    other = verified_client(client, staff_without_commitment)
    assert other.post(url, {"reason": "x"}).status_code == 403
    assert other.get(reverse("admin:privacy_datarequest_changelist")).status_code == 403


def test_hand_made_workflow_posts_get_a_message_not_a_server_error(owner_client):
    """Bad input in a workflow step is refused with a message on the page, never a 500."""
    rectification = DataRequestFactory(kind="rectification")
    access = DataRequestFactory(kind="access")
    customer = CustomerFactory()
    owner_client.post(
        reverse("admin:privacy_datarequest_link", args=[access.pk]), {"extra_customer_id": str(customer.pk)}
    )
    assert list(access.customers.all()) == [customer]
    for customer_id in ["abc", "99999", str(customer.pk)]:  # none is linked to the rectification
        response = owner_client.post(
            reverse("admin:privacy_datarequest_rectify", args=[rectification.pk]),
            {"customer": customer_id, "last_name": "Muutettu", "reason_last_name": "incorrect"},
        )
        assert response.status_code == 400
        assert "Valitse oikea vaihtoehto" in response.text  # Django's "Select a valid choice"
    response = owner_client.post(
        reverse("admin:privacy_datarequest_rectify", args=[access.pk]),
        {"customer": str(customer.pk), "last_name": "Muutettu", "reason_last_name": "incorrect"},
        follow=True,
    )
    assert response.status_code == 200
    assert "ei sovi" in response.text  # an access request is not rectified
    customer.refresh_from_db()
    assert customer.last_name != "Muutettu"


def test_audit_log_export_with_a_bad_filter_is_a_400(owner_client):
    response = owner_client.get(reverse("admin:privacy_auditevent_export") + "?occurred_at__gte=zz")
    assert response.status_code == 400
