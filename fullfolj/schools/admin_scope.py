"""The admin partitioned by organiser: each organiser's administrators see and change only their
own rows.

Every ModelAdmin of the project is an `OrganiserScopedAdmin` that names its path to the organiser
(`organiser_field`), or a `SuperuserOnlyAdmin`. "Own" means the organisers of the user's staff
roles; a superuser sees everything. Rows without an organiser on a model with `shared_defaults`
(the shipped ladder and screening rules) are visible to all and changed only by a superuser;
models without an organiser at all (`organiser_field = None`: subjects, absence reasons, terms)
are shared by every organiser, so they too are changed only by a superuser. Pages that show
pupils log the read through `read_log`, which the access app connects to its access log (the
organiser is the partition key of the whole product, so the admin's partition lives with it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import lookup_spawns_duplicates, unquote
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .models import Organiser, StaffRole

# Set by the access app when it is ready: (staff, pupil ids, role, path) -> None.
read_log: Callable[..., None] | None = None

UNSET = object()

# The path to the organiser of models without an admin of their own, for foreign-key choices.
# None: shared by every organiser. A model in neither this table nor the admin offers no choice.
ORGANISER_PATHS: dict[str, str | None] = {
    "auth.user": "staff__roles__organiser",
    "schools.pupil": "organiser",
    "schools.guardian": "guardianships__pupil__organiser",
    "schools.schoolyear": None,
    "schools.schoolclass": "school__organiser",
    "schools.teachinggroup": "school__organiser",
    "attendance.lesson": "group__school__organiser",
    "attendance.lessonattendance": "organiser",
}


def own_organisers(request: HttpRequest) -> frozenset[int]:
    """The organisers of the user's staff roles, read once per request."""
    cached = getattr(request, "_fullfolj_admin_organisers", None)
    if cached is None:
        user = request.user
        roles = (
            StaffRole.objects.filter(staff__user=user)
            if user.is_authenticated
            else StaffRole.objects.none()
        )
        cached = frozenset(roles.values_list("organiser_id", flat=True))
        request._fullfolj_admin_organisers = cached  # type: ignore[attr-defined]
    return cached


def is_superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def scope(
    queryset: QuerySet, path: str | None, request: HttpRequest, *, shared: bool = False
) -> QuerySet:
    """The rows of `queryset` the user may see: their organisers' (and shared rows if `shared`)."""
    if is_superuser(request) or path is None:
        return queryset
    visible = Q(**{f"{path}__in": own_organisers(request)})
    if shared:
        visible |= Q(**{f"{path}__isnull": True})
    if lookup_spawns_duplicates(queryset.model._meta, path):
        # A row reached through several roles would show twice; a subquery keeps it once.
        return queryset.filter(pk__in=queryset.model._default_manager.filter(visible).values("pk"))
    return queryset.filter(visible)


def organisers_of(obj: models.Model, path: str) -> set[int | None]:
    """The organiser(s) a row points at, as it stands in memory (so a forged value counts)."""
    parts = path.split("__")
    target: Any = obj
    for i, part in enumerate(parts):
        if part == "pk":
            return {target.pk}
        field = target._meta.get_field(part)
        if field.many_to_one or (field.one_to_one and field.concrete):
            if i == len(parts) - 1:
                return {getattr(target, field.attname)}
            target = getattr(target, part)
            if target is None:
                return {None}
        else:  # a reverse or many-to-many relation: read what is saved
            if target.pk is None:
                return set()
            rows = type(target)._default_manager.filter(pk=target.pk)
            return set(rows.values_list("__".join(parts[i:]), flat=True))
    return set()


def only_own_rows(func: Callable) -> Callable:
    """An admin action that refuses a selection holding rows the user may not change."""
    if set(getattr(func, "allowed_permissions", ())) == {"view"}:
        return func

    @functools.wraps(func)
    def action(modeladmin: OrganiserScopedAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
        if not is_superuser(request):
            path = modeladmin.organiser_field
            own = scope(queryset, path, request)
            if path is None or queryset.exclude(pk__in=own.values("pk")).exists():
                modeladmin.message_user(
                    request, _("Only rows of your own organiser can be changed."), messages.ERROR
                )
                return None
        return func(modeladmin, request, queryset)

    return action


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """For tables no organiser owns and no organiser may see: users, groups, background tasks."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request)


# The mixins below are used with Django's admin classes; the type checker sees them as such.
if TYPE_CHECKING:
    _AdminBase = admin.options.BaseModelAdmin[Any]
    _InlineBase = admin.options.InlineModelAdmin[Any, Any]
else:
    _AdminBase = _InlineBase = object


class _Scoped(_AdminBase):
    """What the admin and its inlines share: the path to the organiser and the checks on it."""

    organiser_field: Any = UNSET  # "organiser", "pupil__organiser", ... or None (shared model)
    shared_defaults = False  # rows whose organiser is empty are every organiser's defaults

    def may_see(self, request: HttpRequest, obj: models.Model) -> bool:
        if is_superuser(request) or self.organiser_field is None:
            return True
        found = organisers_of(obj, self.organiser_field)
        return bool(found & own_organisers(request)) or (self.shared_defaults and None in found)

    def may_change(self, request: HttpRequest, obj: models.Model) -> bool:
        """Only a superuser changes shared rows; others only rows wholly of their organisers."""
        if is_superuser(request):
            return True
        if self.organiser_field is None:
            return False
        found = organisers_of(obj, self.organiser_field)
        return bool(found) and None not in found and found <= own_organisers(request)

    def scoped_choices(self, model: type[models.Model], request: HttpRequest) -> QuerySet:
        """The rows of `model` a foreign key may point at: those the user may see."""
        queryset = model._default_manager.all()
        registered = self.admin_site._registry.get(model)
        if isinstance(registered, OrganiserScopedAdmin):
            return registered.get_queryset(request)
        label = model._meta.label_lower
        if is_superuser(request):
            return queryset
        if label not in ORGANISER_PATHS:
            return queryset.none()
        return scope(queryset, ORGANISER_PATHS[label], request)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if not is_superuser(request):
            kwargs["queryset"] = self.scoped_choices(db_field.remote_field.model, request)
            if db_field.name == self.organiser_field:
                kwargs["required"] = True  # empty means a shared default: a superuser's choice
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        if not is_superuser(request):
            kwargs["queryset"] = self.scoped_choices(db_field.remote_field.model, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @classmethod
    def check_organiser_field(cls, model: type[models.Model]) -> list[checks.CheckMessage]:
        name = f"{cls.__module__}.{cls.__qualname__}"
        if cls.organiser_field is UNSET:
            return [
                checks.Error(
                    f"{name} must set organiser_field (None for a shared model).",
                    obj=cls,
                    id="access.E001",
                )
            ]
        if cls.organiser_field in (None, "pk"):
            return []
        target: type[models.Model] | None = model
        try:
            for part in cls.organiser_field.split("__"):
                if target is None:  # the path goes on past a field that is no relation
                    break
                target = target._meta.get_field(part).related_model
        except (FieldDoesNotExist, AttributeError):
            target = None
        if target is not Organiser:
            return [
                checks.Error(
                    f"{name}.organiser_field does not lead to an organiser.",
                    obj=cls,
                    id="access.E002",
                )
            ]
        return []


class OrganiserScopedAdmin(_Scoped, admin.ModelAdmin):
    """A ModelAdmin that shows and accepts only rows of the user's own organisers.

    `pupil_field` names the path to the pupil on admins whose pages show pupils: their change
    lists and change pages are logged as reads of those pupils.
    """

    pupil_field: str | None = None

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self.check_organiser_field(self.model)]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(
            super().get_queryset(request),
            self.organiser_field,
            request,
            shared=self.shared_defaults,
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and (
            obj is None or self.may_see(request, obj)
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if self.organiser_field is None and not is_superuser(request):
            return False
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.organiser_field is None and not is_superuser(request):
            return False
        return super().has_change_permission(request, obj) and (
            obj is None or self.may_change(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.organiser_field is None and not is_superuser(request):
            return False
        return super().has_delete_permission(request, obj) and (
            obj is None or self.may_change(request, obj)
        )

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """Filters on relations list only what the user's rows point at, not every organiser."""
        shown = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation:
                    entry = (entry, admin.RelatedOnlyFieldListFilter)
            shown.append(entry)
        return shown

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not self.may_change(request, obj):
            raise PermissionDenied  # the form only offers own organisers; this is a forgery
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        if not self.may_change(request, obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def get_actions(
        self, request: HttpRequest
    ) -> dict[str, tuple[Callable[..., Any], str, str] | None]:
        """Actions that change rows run only on rows the user may change (no shared rows)."""
        own: dict[str, tuple[Callable[..., Any], str, str] | None] = {}
        for action in super().get_actions(request).values():
            if action is not None:  # Django gives none; its type stubs allow them
                func, name, description = action
                own[name] = (only_own_rows(func), name, description)
        return own

    # --- reads of pupils ---------------------------------------------------------------------

    def log_reads(self, request: HttpRequest, pks: Iterable[Any]) -> None:
        """Log that the user saw the pupils of these rows (a superuser without staff: not kept)."""
        staff = getattr(request.user, "staff", None)
        if self.pupil_field is None or staff is None:
            return
        pupils = self.model._default_manager.filter(pk__in=list(pks)).values_list(
            self.pupil_field, flat=True
        )
        if read_log is not None:
            read_log(staff, [p for p in pupils if p is not None], role="admin", path=request.path)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            self.log_reads(request, [row.pk for row in changelist.result_list])
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            shown = self.get_queryset(request).filter(pk=unquote(object_id))
            self.log_reads(request, shown.values_list("pk", flat=True))
        return response

    # --- protected identity ------------------------------------------------------------------

    @staticmethod
    def sees_protected_identity(request: HttpRequest) -> bool:
        return request.user.has_perm("schools.view_protected_identity")


class OrganiserScopedInline(_Scoped, _InlineBase):
    """An inline whose rows belong to the parent's organiser; changed only with the parent."""

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self.check_organiser_field(self.model)]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(
            super().get_queryset(request),
            self.organiser_field,
            request,
            shared=self.shared_defaults,
        )

    def _parent_may_change(self, request: HttpRequest, obj: Any) -> bool:
        parent = self.admin_site._registry.get(type(obj)) if obj is not None else None
        return obj is None or (
            isinstance(parent, OrganiserScopedAdmin) and parent.may_change(request, obj)
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and self._parent_may_change(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._parent_may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._parent_may_change(request, obj)


# --- Django's own tables: for superusers only ----------------------------------------------
# An organiser's administrator who could edit users could make themselves superuser.
