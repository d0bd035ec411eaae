import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from privacy import triggers
from privacy.audit import record, verify_chain
from privacy.models import ActorType, AuditAction, AuditEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def make_events(n: int = 5) -> list[AuditEvent]:
    customer = CustomerFactory()
    return [record(action=AuditAction.VIEW, obj=customer) for _ in range(n)]


def without_triggers(sql: str, params=()) -> None:
    """What an attacker with the database's owner rights could do."""
    triggers.run(connection, triggers.DROP)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    triggers.run(connection, triggers.CREATE)


def test_update_is_rejected_by_the_database():
    event = make_events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE privacy_auditevent SET object_id = '999'")


def test_delete_is_rejected_by_the_database():
    event = make_events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM privacy_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_verify_passes_on_an_intact_chain(capsys):
    make_events(5)
    call_command("verify_audit_log")
    assert "5 events checked" in capsys.readouterr().out


def test_verify_names_an_altered_event():
    events = make_events(5)
    without_triggers("UPDATE privacy_auditevent SET action = 'export' WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=f"event #{events[2].pk}: its content"):
        call_command("verify_audit_log")


def test_verify_names_the_event_after_a_removed_one():
    events = make_events(5)
    without_triggers("DELETE FROM privacy_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=f"event #{events[2].pk}: does not follow"):
        call_command("verify_audit_log")


def test_verify_names_a_forged_event():
    events = make_events(3)
    # A forger copies the shape of a real row, chained to the last one, but cannot
    # compute the keyed hash without the server's key.
    last = events[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO privacy_auditevent (occurred_at, actor_type, actor_id, action, "
            "object_type, object_id, fields, counts, prev_hash, hash) "
            "VALUES (%s, 'system', NULL, 'erased', 'customers.customer', '1', '[]', '{}', %s, %s)",
            [last.occurred_at, last.hash, "f" * 64],
        )
    result = verify_chain()
    assert not result.intact and result.first_broken_id > last.pk
    assert result.checked == 3


def test_events_hold_names_never_values():
    customer = CustomerFactory(first_name="Salainen")
    event = record(action=AuditAction.CHANGE, obj=customer, fields=["first_name", "email"])
    assert event.fields == ["email", "first_name"]
    assert event.object_type == "customers.customer" and event.object_id == str(customer.pk)
    with pytest.raises(ValueError):
        record(action=AuditAction.CHANGE, obj=customer, fields=["Salainen Virtanen"])
    with pytest.raises(ValueError):
        record(action=AuditAction.EXPORT, counts={"rows": "many"})


def test_actor_is_the_staff_user_or_system(owner):
    assert record(action=AuditAction.LOGIN, actor=owner).actor_id == owner.pk
    assert record(action=AuditAction.RETENTION_RUN).actor_type == ActorType.SYSTEM
    subject = record(action=AuditAction.REQUEST_SUBMITTED, actor_type=ActorType.DATA_SUBJECT)
    assert subject.actor_type == "data_subject" and subject.actor_id is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_keep_one_chain():
    """Writers in two threads (two database connections) never fork the chain."""
    errors = []

    def writer():
        try:
            for _ in range(25):
                with transaction.atomic():
                    record(action=AuditAction.VIEW, object_type="customers.customer", object_id="1")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify_chain()
    assert result.intact and result.checked == 50
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 50
