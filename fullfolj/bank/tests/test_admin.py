"""Adding, editing and archiving bank entries in the admin: the bank is shared by every
organiser, so only a superuser changes it; an entry in use is archived, never deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from fullfolj.access.tests.test_routes import ROLES
from fullfolj.bank import actions
from fullfolj.bank.models import Entry, Tag, Use
from fullfolj.support import actions as support

TODAY = dt.date(2026, 3, 18)
FIELDS = {
    "title": "Pausschema",
    "slug": "pausschema",
    "summary": "Bestämda pauser under lektionen.",
    "when_to_use": "När eleven orkar kort stund i taget.",
    "how_to": "Gör ett schema med pauser och följ det.",
    "follow_up": "Räkna hur länge eleven arbetar före och efter.",
}


@pytest.fixture
def root(db, django_user_model) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.se", "pw"))
    return client


@pytest.fixture
def used(cast) -> Entry:
    """An entry a measure was picked from."""
    case, _new = support.open_case(cast.pupil, school=cast.north, responsible=cast.mentor, by=None)
    entry = Entry.objects.get(slug="dagsschema")
    actions.pick_entry(
        entry,
        case=case,
        fields={"title": "Dagsschema", "start": TODAY, "follow_up_on": TODAY + dt.timedelta(28)},
        by=cast.mentor,
    )
    return entry


def test_a_superuser_adds_an_entry_that_staff_then_find(root, cast, client):
    tag = Tag.objects.get(slug="struktur")
    response = root.post(reverse("admin:bank_entry_add"), FIELDS | {"tags": [tag.pk]})
    assert response.status_code == 302
    entry = Entry.objects.get(slug="pausschema")
    assert list(entry.tags.all()) == [tag] and not entry.is_archived
    client.force_login(cast.mentor.user)
    assert "Pausschema" in client.get(reverse("bank:index"), {"q": "pauser"}).content.decode()


def test_a_superuser_edits_an_entry_in_use_and_its_measures_keep_it(root, used):
    url = reverse("admin:bank_entry_change", args=[used.pk])
    data = FIELDS | {"slug": used.slug, "title": "Dagsschema med bilder och tider"}
    assert root.post(url, data).status_code == 302
    used.refresh_from_db()
    assert used.title == "Dagsschema med bilder och tider"
    assert Use.objects.get().entry == used


def test_an_entry_in_use_is_not_deleted_but_archived(root, cast, client, used):
    delete = reverse("admin:bank_entry_delete", args=[used.pk])
    page = root.get(delete)
    assert "protected" in page.content.decode()
    root.post(delete, {"post": "yes"})
    changelist = reverse("admin:bank_entry_changelist")
    root.post(
        changelist, {"action": "delete_selected", "post": "yes", "_selected_action": [used.pk]}
    )
    assert Entry.objects.filter(pk=used.pk, is_archived=False).exists()  # refused both ways

    response = root.post(
        changelist, {"action": "archive", "_selected_action": [used.pk]}, follow=True
    )
    assert "1 entry archived, 0 unused entries deleted." in response.content.decode()
    used.refresh_from_db()
    assert used.is_archived and Use.objects.get().entry == used
    client.force_login(cast.mentor.user)
    assert "dagsschema" not in client.get(reverse("bank:index")).content.decode()
    page = client.get(reverse("bank:entry", args=[used.slug]))
    assert page.status_code == 200  # still readable, with its figures


def test_archiving_an_unused_entry_deletes_it(root):
    entry = Entry.objects.get(slug="takk")
    changelist = reverse("admin:bank_entry_changelist")
    root.post(changelist, {"action": "archive", "_selected_action": [entry.pk]})
    assert not Entry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("who", ROLES)
def test_no_staff_role_changes_the_shared_bank(cast, client, used, who):
    """Even given the admin and every permission, an organiser's staff only read the bank."""
    user = getattr(cast, who).user
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="bank"))
    client.force_login(user)
    before = Entry.objects.values_list("pk", "title", "is_archived").order_by("pk")
    before = list(before)
    count = Entry.objects.count()
    change = reverse("admin:bank_entry_change", args=[used.pk])
    assert client.get(change).status_code == 200  # read-only
    assert client.post(change, FIELDS | {"slug": used.slug}).status_code == 403
    assert client.post(reverse("admin:bank_entry_add"), FIELDS).status_code == 403
    changelist = reverse("admin:bank_entry_changelist")
    client.post(changelist, {"action": "archive", "_selected_action": [used.pk]})
    assert (
        client.post(reverse("admin:bank_entry_delete", args=[used.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Entry.objects.count() == count
    assert list(Entry.objects.values_list("pk", "title", "is_archived").order_by("pk")) == before
