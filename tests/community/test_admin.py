import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from importer.services import Source, transcripts_import
from tests.factories import make_user

from ..importer.test_services import talk_day

pytestmark = pytest.mark.django_db

APP_MODELS = [model for label in ("community", "shares", "importer") for model in apps.get_app_config(label).get_models()]


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m._meta.label)
def test_every_model_has_an_admin_page_that_lists_rows(client, model):
    transcripts_import(group_slug="prodarch", sources=[Source.from_bytes("a.md", talk_day())])
    user = make_user(staff=True)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    assert admin.site.is_registered(model)
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count()
