"""One number every process reads once per request: the version of the configuration that
requests look up (API keys, projects, functions, deployments, domain rules). Each change to
those rows bumps it in the same database, so each process notices the change on its next
request and drops what it cached before (``services/cache.py``)."""

import secrets

from django.db import connection, models

ROW = 1


class ConfigVersion(models.Model):
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.value)

    @classmethod
    def current(cls):
        """The version, read with one plain query (this runs once per request); None when
        there is no row (nothing may be cached then)."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {cls._meta.db_table} WHERE id = %s", [ROW])
            found = cursor.fetchone()
        return found[0] if found else None

    @classmethod
    def bump(cls):
        """A new random value (never one seen before, even if the row was deleted and made
        again), set inside the transaction of the change, so both commit together."""
        value = secrets.randbits(62)
        if not cls.objects.filter(pk=ROW).update(value=value):
            cls.objects.update_or_create(pk=ROW, defaults={"value": value})
