import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from customers.models import Customer, MarketingObjection, Order, Organisation

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return list(
        Customer.objects.order_by("pk").values_list(
            "first_name", "last_name", "email", "phone", "postal_code", "city", "birth_year"
        )
    )


def wipe() -> None:
    Order.objects.all().delete()
    Customer.objects.all().delete()
    Organisation.objects.all().delete()


def test_seed_demo_makes_customers_with_orders_and_valid_data(capsys):
    call_command("seed_demo", customers=300, orders_per_customer=2, seed=7)
    assert Customer.objects.count() == 300
    assert Order.objects.count() == 600
    assert Organisation.objects.exists() and MarketingObjection.objects.exists()
    for customer in Customer.objects.all()[:50]:
        customer.full_clean()  # demo data passes the same validation as the admin
    assert "Seeded 300 customers" in capsys.readouterr().out


def test_seed_demo_is_deterministic_for_a_seed():
    call_command("seed_demo", customers=50, orders_per_customer=1, seed=3)
    first = snapshot()
    wipe()
    call_command("seed_demo", customers=50, orders_per_customer=1, seed=3)
    assert snapshot() == first
    wipe()
    call_command("seed_demo", customers=50, orders_per_customer=1, seed=4)
    assert snapshot() != first


def test_seed_demo_if_empty_leaves_a_register_alone(capsys):
    call_command("seed_demo", customers=5)
    call_command("seed_demo", customers=5, if_empty=True)
    assert Customer.objects.count() == 5


def test_create_owner_prints_the_password_once_and_stores_a_hash(capsys):
    call_command("create_owner")
    out = capsys.readouterr().out
    password = re.search(r"password:\s+(\S+)", out).group(1)
    owner = get_user_model().objects.get(username="owner")
    assert owner.is_superuser and owner.check_password(password)
    assert password not in owner.password
    call_command("create_owner")
    assert "exists already" in capsys.readouterr().out
    assert get_user_model().objects.count() == 1
