"""Support documentation in the admin: a superuser finds it by the pupil and reads it; nobody
changes or deletes it there; an organiser's administrator does not see it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from fullfolj.support import actions
from fullfolj.support.models import Case, CaseEntry, Evaluation, Mapping, Measure
from tests.factories import login_with_second_factor

MODELS = ["case", "caseentry", "mapping", "measure", "evaluation", "agreedaction"]


@pytest.fixture
def root(db, django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.se", "pw"))
    return client


@pytest.fixture
def documented(measure, cast) -> Measure:
    actions.evaluate(
        measure,
        judgement=Evaluation.Judgement.BETTER,
        text="Närvaron har ökat",
        evaluated_on=measure.follow_up_on,
        figures={},
        by=cast.mentor,
        close=True,
    )
    Mapping.objects.create(
        case=measure.case, teaching="Svårt med långa pass", written_by=cast.mentor
    )
    return measure


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_lists_and_searches_by_the_pupil(root, documented, cast, model):
    changelist = reverse(f"admin:support_{model}_changelist")
    assert root.get(changelist).status_code == 200
    found = root.get(changelist, {"q": cast.pupil.last_name})
    assert found.status_code == 200
    if model != "agreedaction":  # no minutes with actions in this case
        assert found.context["cl"].result_count >= 1, model
    missing = root.get(changelist, {"q": "Ingen-sådan-elev"})
    assert missing.context["cl"].result_count == 0


def test_the_personnummer_finds_the_case(root, documented, cast):
    found = root.get(reverse("admin:support_case_changelist"), {"q": cast.pupil.personnummer})
    assert list(found.context["cl"].result_list) == [documented.case]


@pytest.mark.parametrize(
    ("model", "row"),
    [
        ("case", lambda m: m.case),
        ("caseentry", lambda m: m.case.entries.first()),
        ("measure", lambda m: m),
        ("evaluation", lambda m: m.evaluations.get()),
        ("mapping", lambda m: m.case.mappings.get()),
    ],
)
def test_nothing_is_changed_or_deleted_in_the_admin(root, documented, model, row):
    target = row(documented)
    change = reverse(f"admin:support_{model}_change", args=[target.pk])
    page = root.get(change)
    assert page.status_code == 200  # read
    assert 'name="_save"' not in page.content.decode()
    assert root.post(change, {}).status_code == 403
    assert root.post(reverse(f"admin:support_{model}_delete", args=[target.pk])).status_code == 403
    assert root.get(reverse(f"admin:support_{model}_add")).status_code == 403
    assert type(target).objects.filter(pk=target.pk).exists()


def test_an_administrator_with_every_permission_sees_no_support_table(client, documented, cast):
    user = cast.admin.user
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="support"))
    client.force_login(user)
    for model in MODELS:
        assert client.get(reverse(f"admin:support_{model}_changelist")).status_code == 403
    assert cast.pupil.last_name not in client.get(reverse("admin:index")).content.decode()
    assert Case.objects.count() == 1 and CaseEntry.objects.exists()


def test_a_health_entry_shows_in_the_admin_only_after_a_second_factor(
    documented, cast, django_user_model
):
    entry = CaseEntry.objects.create(
        case=documented.case,
        kind=CaseEntry.Kind.NOTE,
        occurred_on=documented.start,
        written_by=cast.nurse,
        health_restricted=True,
        text="Samtal om sömnen",
    )
    superuser = django_user_model.objects.create_superuser("root", "r@example.se", "pw")
    client = Client()
    client.force_login(superuser)
    changelist = reverse("admin:support_caseentry_changelist")
    listed = client.get(changelist, {"q": "sömnen"}).context["cl"].result_count
    assert listed == 0
    assert client.get(reverse("admin:support_caseentry_change", args=[entry.pk])).status_code != 200
    case_page = client.get(reverse("admin:support_case_change", args=[documented.case.pk]))
    assert "Samtal om sömnen" not in case_page.content.decode()

    login_with_second_factor(client, superuser)
    assert client.get(changelist, {"q": "sömnen"}).context["cl"].result_count == 1
    case_page = client.get(reverse("admin:support_case_change", args=[documented.case.pk]))
    assert "Samtal om sömnen" in case_page.content.decode()
