import time

from django.core.management.base import BaseCommand, CommandError

from customers.demo import seed_demo
from customers.models import Customer


class Command(BaseCommand):
    help = "Fill the register with fictional Finnish-looking demo customers and orders."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--orders-per-customer", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the register already has customers."
        )

    def handle(self, *args, customers, orders_per_customer, seed, if_empty, **options):
        if customers < 0 or orders_per_customer < 0:
            raise CommandError("Counts cannot be negative.")
        if if_empty and Customer.objects.exists():
            self.stdout.write("The register has customers already; no demo data added.")
            return
        started = time.perf_counter()
        result = seed_demo(customers=customers, orders_per_customer=orders_per_customer, seed=seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.customers} customers, {result.orders} orders, "
                f"{result.organisations} organisations, {result.objections} objections and "
                f"{result.consents} e-mail consents in {elapsed:.1f} s."
            )
        )
