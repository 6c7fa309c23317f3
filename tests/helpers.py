import json

import pytest
import requests
from appwrite.exception import AppwriteException
from django.apps import apps
from django.db import connection


def expect_error(call, code, type_, message=None):
    """Run an SDK call that must fail with this Appwrite error; returns the exception."""
    with pytest.raises(AppwriteException) as info:
        call()
    error = info.value
    assert (error.code, error.type) == (code, type_), (error.code, error.type, error.message)
    if message is not None:
        assert error.message == message
    return error


def expect_raw_error(response, code, type_, message=None):
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"message", "code", "type", "version"}
    assert (body["code"], body["type"], body["version"]) == (code, type_, "1.8.0")
    if message is not None:
        assert body["message"] == message
    return body


def queued_tasks():
    """The tasks waiting in django-q2's broker, whichever it is (the ORM broker's table, or
    Redis with ``REDIS_URL``), decoded: dicts with ``func``, ``args``, ``kwargs``..."""
    from django_q.brokers import get_broker
    from django_q.brokers.redis_broker import Redis
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    broker = get_broker()
    if isinstance(broker, Redis):
        payloads = [p.decode() for p in broker.connection.lrange(broker.list_key, 0, -1)]
    else:
        payloads = OrmQ.objects.filter(key=broker.list_key).values_list("payload", flat=True)
    return [SignedPackage.loads(payload) for payload in payloads]


def stored_tables():
    """Every table of the database: each model's (ours, Django's, django-q's) and any other."""
    tables = set(connection.introspection.table_names())
    models = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    assert models <= tables, models - tables
    return sorted(tables)


def assert_never_stored(*secrets):
    """No column of any row of any table holds any of ``secrets`` (as text or bytes)."""
    assert secrets and all(secrets)
    with connection.cursor() as cursor:
        for table in stored_tables():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    data = (
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
                    for secret in secrets:
                        assert secret.encode() not in data, f"{secret!r} stored in {table}: {row!r}"


def sign_in(base_url, project_id, email, password):
    """A session token, as a client without cookies (the CLI, a server) gets one: the
    ``X-Fallback-Cookies`` header of the email-session response."""
    response = requests.post(
        f"{base_url}/v1/account/sessions/email",
        json={"email": email, "password": password},
        headers={"X-Appwrite-Project": project_id},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    realm = "console" if project_id == "console" else project_id
    return json.loads(response.headers["X-Fallback-Cookies"])[f"a_session_{realm}"]
