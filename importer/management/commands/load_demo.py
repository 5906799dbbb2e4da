"""python manage.py load_demo: generated demo groups through the real importer, and a demo admin."""

from django.core.management.base import BaseCommand

from importer.demo import demo_admin, demo_load


class Command(BaseCommand):
    help = "Load generated demo data (three groups) through the importer and print the demo admin's login."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=45)
        parser.add_argument("--messages-per-day", type=int, default=120)

    def handle(self, *args, days, messages_per_day, **options):
        demo_load(days=days, messages_per_day=messages_per_day, out=self.stdout.write)
        username, password = demo_admin()
        self.stdout.write(self.style.SUCCESS(f"Demo admin: username {username!r}, password {password!r}"))
