"""The admin is scoped to the organiser: an independent school's administrator (staff user with
every model permission, not superuser) sees and changes only the independent school's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import serializers
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fullfolj.access.models import AccessLog, AccessLogIsAppendOnly, SecondFactorRequirement
from fullfolj.attendance.models import AttendanceChange, LessonAttendance
from fullfolj.bank.models import Entry as BankEntry
from fullfolj.bank.models import Tag as BankTag
from fullfolj.compulsory.models import OversightRules
from fullfolj.ladder.models import LadderRecord, LadderStep, LadderTask, LadderTrigger
from fullfolj.notices.models import GuardianNotice
from fullfolj.records.models import RetentionPolicy
from fullfolj.riskmodel.models import RiskModel
from fullfolj.schools import models as s
from fullfolj.schools.admin_scope import (
    OrganiserScopedAdmin,
    OrganiserScopedInline,
    SuperuserOnlyAdmin,
)
from fullfolj.screening.models import ScreeningRule, ScreeningRun
from tests import factories as f

REGISTERED = sorted(model._meta.label for model in admin.site._registry)
# Tables no organiser owns: every organiser sees them, only a superuser changes them.
SHARED = {
    "schools.Term",
    "schools.Subject",
    "attendance.AbsenceReason",
    # The resource bank: one library for every organiser (bank/admin.py).
    "bank.Entry",
    "bank.Tag",
}
SUPERUSER_ONLY = {
    "auth.User",
    "auth.Group",
    "django_tasks_database.DBTaskResult",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "exchange.Source",
    "exchange.ImportRun",
    "exchange.ImportPreset",
    "exchange.FileImport",
    "api.ApiToken",
    "riskmodel.ProtectedColumn",
    # A second factor: whoever edits it could read health data as its owner.
    "otp_totp.TOTPDevice",
    "reports.Region",
    "reports.RegionMember",
    # A pupil's support documentation: read-only, for a superuser (support/admin.py).
    "support.Case",
    "support.CaseEntry",
    "support.Mapping",
    "support.Measure",
    "support.Evaluation",
    "support.AgreedAction",
}
# Tables whose rows belong to an organiser: `rows_of` builds one of each.
EXPECTED_OWNED = {
    "schools.Organiser",
    "schools.School",
    "schools.DayOff",
    "schools.Staff",
    "ladder.LadderStep",
    "ladder.LadderTask",
    "notices.GuardianNotice",
    "screening.ScreeningRule",
    "screening.ScreeningRun",
    "riskmodel.RiskModel",
    "access.AccessLog",
    "attendance.AttendanceChange",
    "compulsory.OversightRules",
    "records.RetentionPolicy",
    "access.SecondFactorRequirement",
}
# Admins whose change form a superuser may save: a forged form must be a real one.
EDITABLE = {
    "schools.Organiser",
    "schools.School",
    "schools.DayOff",
    "schools.Staff",
    "ladder.LadderStep",
    "screening.ScreeningRule",
}
# Admins with an organiser field in the form.
POINTS_AT_ORGANISER = [
    "schools.School",
    "schools.DayOff",
    "ladder.LadderStep",
    "screening.ScreeningRule",
    "records.RetentionPolicy",
    "access.SecondFactorRequirement",
]
DOCUMENTATION = "Samtal med familjen om skyddad adress"


def risk_model(org: s.Organiser) -> RiskModel:
    return RiskModel.objects.create(
        organiser=org,
        trained_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        data_start=dt.date(2025, 9, 15),
        data_end=dt.date(2026, 1, 12),
        outcome="frånvaro",
        horizon_weeks=8,
        learner="logistic_regression",
        rows=100,
        pupils=60,
        positives=20,
        fitted=b"",
    )


def rows_of(
    org: s.Organiser, school: s.School, pupil: s.Pupil, staff: s.Staff, guardian: s.Guardian
) -> dict[str, Any]:
    """One row of every organiser-owned table the admin shows, for `org`."""
    now = timezone.now()
    step = LadderStep.objects.create(
        organiser=org, order=1, name=f"Ring hem {org.name}", actor="mentor"
    )
    LadderTrigger.objects.create(step=step, kind="rate", threshold=Decimal(10))
    task = LadderTask.objects.create(
        pupil=pupil,
        step=step,
        school=school,
        actor="mentor",
        opened_on=dt.date(2026, 3, 10),
        due=dt.date(2026, 3, 13),
        reason="frånvaro 12 %",
    )
    LadderRecord.objects.create(
        task=task,
        kind="contact",
        date=dt.date(2026, 3, 11),
        text=f"{DOCUMENTATION} ({org.name})",
        by=staff,
    )
    return {
        "schools.Organiser": org,
        "schools.School": school,
        "schools.DayOff": s.DayOff.objects.create(
            organiser=org, date=dt.date(2026, 4, 10), kind="study_day", name="Studiedag"
        ),
        "schools.Staff": staff,
        "ladder.LadderStep": step,
        "ladder.LadderTask": task,
        "notices.GuardianNotice": GuardianNotice.objects.create(
            pupil=pupil,
            guardian=guardian,
            date=dt.date(2026, 3, 16),
            channel="email",
            status="sent",
            send_after=now,
            body=f"Hej {guardian.first_name}",
        ),
        "screening.ScreeningRule": ScreeningRule.objects.create(
            organiser=org,
            code="own_rule",
            indicator="absence_invalid",
            threshold=Decimal(10),
            window="28d",
        ),
        "screening.ScreeningRun": ScreeningRun.objects.create(
            organiser=org, as_of=dt.date(2026, 3, 16), started_at=now
        ),
        "riskmodel.RiskModel": risk_model(org),
        "access.AccessLog": AccessLog.objects.create(
            staff=staff, pupil=pupil, role="mentor", path="/elever/"
        ),
        "compulsory.OversightRules": OversightRules.objects.create(organiser=org),
        "records.RetentionPolicy": RetentionPolicy.objects.create(organiser=org),
        "access.SecondFactorRequirement": SecondFactorRequirement.objects.create(organiser=org),
    }


@pytest.fixture
def world(cast) -> SimpleNamespace:
    """The cast's municipality, and an independent school with its own administrator."""
    friskola = f.organiser("Friskola AB")
    friskola.kind = s.Organiser.Kind.INDEPENDENT
    friskola.save()
    school = f.school(friskola, "Friskolan", (6, 9))
    pupil = f.pupil(friskola, "Frida", "Friskolesson", protected=True)
    f.place(pupil, school, None, cast.year.start)
    guardian = s.Guardian.objects.create(
        first_name="Hemlig",
        last_name="Vårdnadshavare",
        email="hemlig@example.se",
        address="Gömda vägen 9",
    )
    s.Guardianship.objects.create(pupil=pupil, guardian=guardian)
    boss = f.staff("friskola_admin", (s.Role.ADMINISTRATION, None), org=friskola)
    boss.user.is_staff = True
    boss.user.save()
    boss.user.user_permissions.set(Permission.objects.all())
    attendance = LessonAttendance.objects.get(lesson=cast.lesson, pupil=cast.pupil)
    other = rows_of(cast.org, cast.north, cast.pupil, cast.mentor, cast.parent)
    other["attendance.AttendanceChange"] = AttendanceChange.objects.create(
        attendance=attendance,
        lesson=cast.lesson,
        version=1,
        changed_at=timezone.now(),
        new=attendance.snapshot(),
    )
    own = rows_of(friskola, school, pupil, boss, guardian)
    shared = {
        "schools.Term": cast.spring,
        "schools.Subject": cast.maths,
        "attendance.AbsenceReason": cast.reasons["OGIL"],
        "bank.Entry": BankEntry.objects.create(
            slug="prov", title="Prov", summary="S", when_to_use="W", how_to="H", follow_up="F"
        ),
        "bank.Tag": BankTag.objects.create(slug="prov", name="Prov"),
    }
    return SimpleNamespace(
        cast=cast,
        friskola=friskola,
        school=school,
        pupil=pupil,
        guardian=guardian,
        boss=boss,
        other=other,
        own=own,
        shared=shared,
    )


@pytest.fixture
def boss(world) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"  # the language switch's cookie
    client.force_login(world.boss.user)
    return client


@pytest.fixture
def root(db, django_user_model) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"  # the language switch's cookie
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.se", "pw"))
    return client


def url(label: str, view: str, *args: object) -> str:
    app, model = label.lower().split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def snapshot(row: Any) -> str:
    return serializers.serialize("json", [type(row)._default_manager.get(pk=row.pk)])


def form_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send for the admin form on this page, as it stands."""
    data: dict[str, Any] = {}
    form_list = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        form_list += [inline.formset.management_form, *inline.formset.forms]
    for form in form_list:
        for bound in form:
            value = bound.value()
            widget = bound.field.widget
            if isinstance(widget, forms.MultiWidget):
                for i, part in enumerate(widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else str(part)
            elif isinstance(bound.field, forms.BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = "" if value is None else str(value)
    return data


def forged(response: Any) -> dict[str, Any]:
    """The form with its names changed, its switches flipped and its dates a day later."""
    data = form_data(response)
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if isinstance(field, forms.BooleanField):
            data[name] = "" if data.get(name) else "on"
        elif name in {"name", "first_name", "last_name", "description"}:
            data[name] = (data.get(name) or "") + "x"
        elif isinstance(field, forms.DateField) and data.get(name):
            data[name] = str(dt.date.fromisoformat(data[name]) + dt.timedelta(days=1))
    return data


# --- every admin declares its scope ---------------------------------------------------------


def test_every_registered_admin_is_scoped_or_superuser_only():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, OrganiserScopedAdmin | SuperuserOnlyAdmin), model
        assert not model_admin.check(), model
        for inline in getattr(model_admin, "inlines", []):
            assert issubclass(inline, OrganiserScopedInline), (model, inline)
        label = model._meta.label
        covered = [label in SHARED, label in SUPERUSER_ONLY, label in EXPECTED_OWNED]
        assert covered.count(True) == 1, f"{label}: add it to the rows these tests build"


def test_an_admin_without_its_path_to_the_organiser_fails_the_checks():
    class Forgetful(OrganiserScopedAdmin):
        pass

    class Astray(OrganiserScopedAdmin):
        organiser_field = "school"

    assert [e.id for e in Forgetful(s.School, admin.site).check()] == ["access.E001"]
    assert [e.id for e in Astray(LadderTask, admin.site).check()] == ["access.E002"]


# --- the other organiser's rows -------------------------------------------------------------


@pytest.mark.parametrize("label", REGISTERED)
def test_the_change_list_shows_no_row_of_another_organiser(boss, world, label):
    response = boss.get(url(label, "changelist"))
    if label in SUPERUSER_ONLY:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    body = response.content.decode()
    shown = response.context["cl"].queryset
    assert "Testkommun" not in body  # not as a row, not as a filter choice
    for name in ("pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away"):
        assert getattr(world.cast, name).last_name not in body
    if label in SHARED:
        assert shown.filter(pk=world.shared[label].pk).exists()
        return
    assert not shown.filter(pk=world.other[label].pk).exists()
    if label in world.own:
        assert shown.filter(pk=world.own[label].pk).exists()


@pytest.mark.parametrize("label", sorted(EXPECTED_OWNED))
def test_the_change_page_of_another_organisers_row_is_not_shown(boss, world, label):
    row = world.other[label]
    response = boss.get(url(label, "change", row.pk))
    assert response.status_code == 302  # "does not exist", to the admin's index
    assert boss.get(url(label, "history", row.pk)).status_code == 302
    assert not AccessLog.objects.filter(path__startswith="/admin/").exists()


@pytest.mark.parametrize("label", sorted(EXPECTED_OWNED))
def test_a_forged_post_does_not_change_or_delete_another_organisers_row(boss, root, world, label):
    row = world.other[label]
    before = snapshot(row)
    page = root.get(url(label, "change", row.pk))
    data = forged(page) if "adminform" in page.context else {"x": "1"}
    boss.post(url(label, "change", row.pk), data)
    boss.post(url(label, "delete", row.pk), {"post": "yes"})
    boss.post(
        url(label, "changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [row.pk]},
    )
    assert snapshot(row) == before


@pytest.mark.parametrize("label", sorted(EDITABLE))
def test_the_forged_post_is_one_a_superuser_could_save(root, world, label):
    """The check on the test above: its forged form changes the row when a superuser sends it."""
    row = world.other[label]
    before = snapshot(row)
    response = root.post(
        url(label, "change", row.pk), forged(root.get(url(label, "change", row.pk)))
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert snapshot(row) != before


@pytest.mark.parametrize("label", POINTS_AT_ORGANISER)
def test_a_row_cannot_be_pointed_at_another_organiser(boss, world, label):
    row = world.own[label]
    before = snapshot(row)
    page = boss.get(url(label, "change", row.pk))
    assert set(page.context["adminform"].form.fields["organiser"].queryset) == {world.friskola}
    for organiser in (world.cast.org.pk, ""):  # another organiser; none (a shared default)
        data = form_data(page) | {"organiser": organiser}
        response = boss.post(url(label, "change", row.pk), data)
        assert response.status_code == 200  # the form again, with the error
        assert snapshot(row) == before
        count = type(row).objects.count()
        boss.post(url(label, "add"), data)
        assert type(row).objects.count() == count


def test_a_task_cannot_be_given_to_another_organisers_staff(boss, world):
    task = world.own["ladder.LadderTask"]
    page = boss.get(url("ladder.LadderTask", "change", task.pk))
    data = form_data(page) | {"assignee": world.cast.mentor.pk}
    assert boss.post(url("ladder.LadderTask", "change", task.pk), data).status_code == 200
    task.refresh_from_db()
    assert task.assignee is None
    data["assignee"] = world.boss.pk
    assert boss.post(url("ladder.LadderTask", "change", task.pk), data).status_code == 302
    task.refresh_from_db()
    assert task.assignee == world.boss


@pytest.mark.parametrize("label", sorted(SHARED))
def test_shared_tables_are_read_by_all_and_changed_by_a_superuser(boss, root, world, label):
    row = world.shared[label]
    before = snapshot(row)
    page = boss.get(url(label, "change", row.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    data = forged(root.get(url(label, "change", row.pk)))
    assert boss.post(url(label, "change", row.pk), data).status_code == 403
    assert boss.post(url(label, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert boss.get(url(label, "add")).status_code == 403
    assert snapshot(row) == before
    assert root.post(url(label, "change", row.pk), data).status_code == 302
    assert snapshot(row) != before


# --- shared defaults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "switch"), [(ScreeningRule, "active"), (LadderStep, "is_active")]
)
def test_a_shared_default_is_seen_but_not_changed_or_switched_off(boss, root, world, model, switch):
    default = model.objects.filter(organiser=None).first()
    label = model._meta.label
    assert getattr(default, switch)
    before = snapshot(default)
    page = boss.get(url(label, "change", default.pk))
    assert page.status_code == 200  # read-only
    assert not page.context["has_change_permission"]
    assert boss.get(url(label, "changelist")).context["cl"].queryset.filter(pk=default.pk).exists()
    data = form_data(root.get(url(label, "change", default.pk)))
    data.pop(switch)
    assert boss.post(url(label, "change", default.pk), data).status_code == 403
    assert boss.post(url(label, "delete", default.pk), {"post": "yes"}).status_code == 403
    response = boss.post(
        url(label, "changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [default.pk]},
        follow=True,
    )
    assert "Only rows of your own organiser can be changed." in response.content.decode()
    assert snapshot(default) == before

    response = root.post(url(label, "change", default.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    default.refresh_from_db()
    assert not getattr(default, switch)


def test_the_organiser_filter_lists_only_own_organisers(boss, world):
    response = boss.get(url("screening.ScreeningRule", "changelist"))
    choices = next(
        spec for spec in response.context["cl"].filter_specs if spec.field_path == "organiser"
    ).lookup_choices
    assert [name for _pk, name in choices] == ["Friskola AB"]


# --- Django's own tables --------------------------------------------------------------------


def test_an_organisers_administrator_cannot_make_themselves_superuser(boss, world):
    user = world.boss.user
    change = url("auth.User", "change", user.pk)
    assert boss.get(change).status_code == 403
    response = boss.post(
        change,
        {
            "username": user.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-03-18",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert not user.is_superuser
    assert boss.get(url("auth.Group", "add")).status_code == 403


def test_a_staff_record_is_not_linked_to_a_login_by_an_organisers_administrator(boss, world):
    staff = world.own["schools.Staff"]
    page = boss.get(url("schools.Staff", "change", staff.pk))
    assert "user" not in page.context["adminform"].form.fields
    assert boss.get(url("schools.Staff", "add")).status_code == 403


# --- reads of pupils ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["ladder.LadderTask", "notices.GuardianNotice", "access.AccessLog"]
)
def test_reading_pupils_in_the_admin_is_logged(boss, world, label):
    logged = AccessLog.objects.filter(staff=world.boss, role="admin", pupil=world.pupil)
    response = boss.get(url(label, "changelist"))
    assert response.status_code == 200
    assert logged.filter(path=url(label, "changelist")).count() == 1
    row = world.own[label]
    assert boss.get(url(label, "change", row.pk)).status_code == 200
    assert logged.filter(path=url(label, "change", row.pk)).count() == 1
    assert not AccessLog.objects.filter(staff=world.boss, pupil=world.cast.pupil).exists()


def test_the_task_page_shows_its_documentation_only_to_its_organiser(boss, world):
    own = world.own["ladder.LadderTask"]
    body = boss.get(url("ladder.LadderTask", "change", own.pk)).content.decode()
    assert f"{DOCUMENTATION} (Friskola AB)" in body
    other = world.other["ladder.LadderTask"]
    body = boss.get(url("ladder.LadderTask", "change", other.pk), follow=True).content.decode()
    assert DOCUMENTATION not in body


def test_protected_identity_hides_the_guardian_without_the_permission(boss, world):
    world.boss.user.user_permissions.remove(
        Permission.objects.get(codename="view_protected_identity")
    )
    notice = world.own["notices.GuardianNotice"]
    for page in (
        url("notices.GuardianNotice", "changelist"),
        url("notices.GuardianNotice", "change", notice.pk),
    ):
        body = boss.get(page).content.decode()
        assert "Friskolesson" in body  # the pupil, by name
        assert "Hemlig" not in body and "Vårdnadshavare" not in body


def test_protected_identity_shows_the_guardian_with_the_permission(boss, world):
    notice = world.own["notices.GuardianNotice"]
    for page in (
        url("notices.GuardianNotice", "changelist"),
        url("notices.GuardianNotice", "change", notice.pk),
    ):
        assert "Vårdnadshavare" in boss.get(page).content.decode()


# --- the access log -------------------------------------------------------------------------


def test_the_access_log_is_read_only_and_erased_only_by_a_superuser(boss, root, world):
    entry = world.own["access.AccessLog"]
    assert boss.get(url("access.AccessLog", "add")).status_code == 403
    page = boss.get(url("access.AccessLog", "change", entry.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert boss.post(url("access.AccessLog", "change", entry.pk), {"role": "x"}).status_code == 403
    assert (
        boss.post(url("access.AccessLog", "delete", entry.pk), {"post": "yes"}).status_code == 403
    )
    assert AccessLog.objects.filter(pk=entry.pk, role="mentor").exists()
    assert (
        root.post(url("access.AccessLog", "delete", entry.pk), {"post": "yes"}).status_code == 302
    )
    assert not AccessLog.objects.filter(pk=entry.pk).exists()


def test_the_access_log_is_append_only(world):
    entry = AccessLog.objects.get(pk=world.own["access.AccessLog"].pk)
    entry.role = "principal"
    with pytest.raises(AccessLogIsAppendOnly):
        entry.save()
    with pytest.raises(AccessLogIsAppendOnly):
        entry.delete()
    assert AccessLog.objects.filter(pk=entry.pk, role="mentor").exists()
