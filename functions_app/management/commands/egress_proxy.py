"""``manage.py egress_proxy``: the egress proxy of runtime and build containers, serving on
``EGRESS_SOCKET`` until stopped (bin/run starts it beside the web server and the workers)."""

import logging
import sys

from django.core.management.base import BaseCommand

from functions_app.services import egress_proxy


class Command(BaseCommand):
    help = "Run the egress proxy that runtime and build containers reach the network through."

    def handle(self, *args, **options):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log = logging.getLogger("functions.egress")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        egress_proxy.run()
