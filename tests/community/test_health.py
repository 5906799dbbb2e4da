import json

import pytest
from django.urls import reverse

from community.broker import BrokerUrls

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_with_live_database_and_broker(client, settings, embedded_redis):
    settings.BROKER = BrokerUrls(celery="unused", redis=embedded_redis)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_reports_dead_broker(client, settings, tmp_path):
    settings.BROKER = BrokerUrls(celery="unused", redis=f"unix://{tmp_path / 'no-such.sock'}?db=0")
    response = client.get(reverse("healthz"))
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ConnectionError")
