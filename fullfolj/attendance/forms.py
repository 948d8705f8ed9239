"""The lesson register: one row of marks per pupil, saved for the whole group at once."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from django import forms
from django.core import signing
from django.db.models import Q
from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fullfolj.lib import clock
from fullfolj.lib.params import parse_id
from fullfolj.lib.widgets import DateInput
from fullfolj.schools.models import Pupil

from . import queries
from .actions import Loaded, Mark, Settlement
from .models import AbsenceReason, AttendanceChange, Lesson, LessonAttendance

UNKNOWN, INVALID, VALID = "unknown", "invalid", "valid"


class MarkForm(forms.Form):
    """One pupil's mark: absent whole lesson or some minutes, late minutes, and the reason."""

    absent_whole = forms.BooleanField(label=gettext_lazy("Absent whole lesson"), required=False)
    absent_minutes = forms.IntegerField(
        label=gettext_lazy("Absent minutes"),
        required=False,
        error_messages={"invalid": gettext_lazy("Enter absent minutes as a whole number.")},
    )
    late_minutes = forms.IntegerField(
        label=gettext_lazy("Late minutes"),
        required=False,
        error_messages={"invalid": gettext_lazy("Enter late minutes as a whole number.")},
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Absence reason"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Unknown reason code “%(value)s”.")},
    )

    def __init__(
        self, *args: Any, lesson: Lesson, reasons: dict[str, AbsenceReason], **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.lesson = lesson
        self.reasons = reasons
        for name in ("absent_minutes", "late_minutes"):
            self.fields[name].widget.attrs.update(
                {"min": 0, "max": lesson.minutes, "inputmode": "numeric", "size": 4}
            )
        valid = [(r.code, r.name) for r in reasons.values() if r.is_valid]
        invalid = [(r.code, r.name) for r in reasons.values() if not r.is_valid]
        if self.initial.get("status") == VALID:  # an imported mark: valid, without a code
            valid.insert(0, (VALID, _("Valid, no reason code")))
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (UNKNOWN, _("Not yet known")),
            (_("Valid"), valid),
            (_("Invalid"), [(INVALID, _("Invalid, no reason code")), *invalid]),
        ]

    @staticmethod
    def initial_for(row: LessonAttendance | None) -> dict[str, Any]:
        if row is None:
            return {"status": UNKNOWN}
        whole = 0 < row.scheduled_minutes <= row.absent_minutes
        if row.reason_id:
            status = row.reason.code  # type: ignore[union-attr]
        else:
            status = {None: UNKNOWN, False: INVALID, True: VALID}[row.is_valid]
        return {
            "absent_whole": whole,
            "absent_minutes": row.absent_minutes if row.absent_minutes and not whole else None,
            "late_minutes": row.late_minutes or None,
            "status": status,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        minutes = self.lesson.minutes
        absent, late = data.get("absent_minutes") or 0, data.get("late_minutes") or 0
        if absent < 0:
            self.add_error(
                "absent_minutes",
                _("Absent minutes cannot be negative (%(value)s).") % {"value": absent},
            )
        elif absent > minutes and not data.get("absent_whole"):
            self.add_error(
                "absent_minutes",
                _("%(value)s absent minutes is longer than the lesson (%(minutes)s minutes).")
                % {"value": absent, "minutes": minutes},
            )
        if late < 0:
            self.add_error(
                "late_minutes", _("Late minutes cannot be negative (%(value)s).") % {"value": late}
            )
        if data.get("absent_whole"):
            absent = minutes
        if self.errors:
            return data
        if absent + late > minutes:
            self.add_error(
                "late_minutes",
                _(
                    "%(late)s late minutes and %(absent)s absent minutes are longer than the lesson "
                    "(%(minutes)s minutes)."
                )
                % {"late": late, "absent": absent, "minutes": minutes},
            )
        data["absent"], data["late"] = absent, late
        return data

    def mark(self, pupil_id: int) -> Mark:
        data = self.cleaned_data
        status = data.get("status") or UNKNOWN
        reason = self.reasons.get(status)
        if reason is not None:
            is_valid: bool | None = reason.is_valid
        else:
            is_valid = {UNKNOWN: None, INVALID: False, VALID: True}[status]
        return Mark(
            pupil_id=pupil_id,
            absent_minutes=data["absent"],
            late_minutes=data["late"],
            is_valid=is_valid,
            reason=reason,
        )


MARK_FIELDS = ("absent_whole", "absent_minutes", "late_minutes", "status")


def left_present(data: QueryDict, prefix: str) -> bool:
    """Whether a posted row is the register's default: nothing entered, status not yet known.

    Most of a group is present; such a row's mark is known without building its form (which
    is built only if the page is shown again). Anything else goes through MarkForm.
    """
    return all(
        data.get(f"{prefix}-{name}", "") in ("", UNKNOWN)
        if name == "status"
        else data.get(f"{prefix}-{name}", "") == ""
        for name in MARK_FIELDS
    )


@dataclass
class Row:
    pupil: Pupil
    build: Callable[[], MarkForm] = field(repr=False)
    posted: bool
    conflicts: list[AttendanceChange] = field(default_factory=list)
    adaptations: list[str] = field(default_factory=list)  # shown beside the name
    present: bool = False  # posted as left_present: valid, the mark is Mark(pupil)

    @cached_property
    def form(self) -> MarkForm:
        return self.build()

    @property
    def anchor(self) -> str:
        return f"pupil-{self.pupil.pk}"

    def is_valid(self) -> bool:
        return self.present or self.form.is_valid()

    def mark(self) -> Mark:
        return Mark(pupil_id=self.pupil.pk) if self.present else self.form.mark(self.pupil.pk)


@dataclass
class Problem:
    """One line of the error summary, linking to the field it is about."""

    text: str
    anchor: str


_REGISTER_SIGNER = signing.Signer(salt="fullfolj.attendance.register")


def marks_digest(rows: Iterable[LessonAttendance]) -> str:
    """A short digest of a register's marks: equal digests, equal marks."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda row: row.pupil_id):
        digest.update(
            f"{row.pupil_id},{row.absent_minutes},{row.late_minutes},"
            f"{row.is_valid},{row.reason_id};".encode()
        )
    return digest.hexdigest()[:20]


def register_state(lesson_id: int, version: int, digest: str) -> str:
    """What a register page was rendered from, signed: the browser carries it, cannot alter it."""
    return _REGISTER_SIGNER.sign(f"{lesson_id}.{version}.{digest}")


def read_register_state(value: str, lesson_id: int) -> tuple[int, str] | None:
    """The version and marks digest a posted register_state names; None if altered or another
    lesson's."""
    try:
        lesson, version, digest = _REGISTER_SIGNER.unsign(value).split(".")
    except (signing.BadSignature, ValueError):
        return None
    if parse_id(lesson) != lesson_id or not (version.isascii() and version.isdigit()):
        return None
    return int(version), digest


class RegisterForm:
    """The register for one lesson: a MarkForm per pupil, plus the state it was loaded in.

    The pupils are the group's members on the lesson's date and anyone already marked, of
    those the viewer still reaches (`roster`, from the gate). Posted pupil ids outside them are
    refused by name; the other rows keep what was entered.
    """

    def __init__(
        self,
        lesson: Lesson,
        data: QueryDict | None = None,
        *,
        conflicts: list[AttendanceChange] | None = None,
        roster: Q | None = None,
        rebase: int | None = None,
    ) -> None:
        self.lesson = lesson
        self.data = data
        sheet = queries.register_sheet(lesson, roster)
        pupils, existing = sheet.pupils, sheet.marks
        self.reasons = {r.code: r for r in sheet.reasons}
        # For the save, read once here: the marks, and who may get a new one.
        self.loaded = Loaded(
            existing, {p.pk: p.organiser_id for p in pupils if p.pk not in existing}
        )
        posted = data.getlist("pupil") if data is not None else []
        known = {str(p.pk) for p in pupils}
        self.strangers = [value for value in posted if value not in known]
        by_pupil: dict[int, list[AttendanceChange]] = {}
        for change in conflicts or []:
            by_pupil.setdefault(change.attendance.pupil_id, []).append(change)
        adaptations = queries.active_adaptations([p.pk for p in pupils], lesson.date)
        self.rows = []
        posted_ids = set(posted)
        for pupil in pupils:
            is_posted = str(pupil.pk) in posted_ids
            prefix = f"p{pupil.pk}"
            build = partial(
                MarkForm,
                data if is_posted else None,
                prefix=prefix,
                lesson=lesson,
                reasons=self.reasons,
                initial=MarkForm.initial_for(existing.get(pupil.pk)),
            )
            present = is_posted and data is not None and left_present(data, prefix)
            self.rows.append(
                Row(
                    pupil,
                    build,
                    is_posted,
                    by_pupil.get(pupil.pk, []),
                    adaptations.get(pupil.pk, []),
                    present,
                )
            )
        self.version_error = ""
        digest = marks_digest(existing.values())
        # `version`: the one the save expects to swap from (actions.register_lesson).
        self.version = lesson.version if rebase is None else rebase
        self.state = register_state(lesson.pk, self.version, digest)
        if data is not None and rebase is None:
            posted_state = data.get("state", "")
            loaded_state = read_register_state(posted_state, lesson.pk)
            if loaded_state is None:
                self.version_error = _(
                    "The form does not say which register it was loaded from, or it was "
                    "altered. Reload the page and enter the register again."
                )
            else:
                self.state = posted_state  # shown again, the form still stands on its load
                loaded_version, loaded_digest = loaded_state
                # Marks as loaded (read just now, after the lesson): the save merely needs
                # nothing saved since that read. Else someone changed them since the load, and
                # the swap from the loaded version fails and shows what changed.
                self.version = lesson.version if loaded_digest == digest else loaded_version

    def is_valid(self) -> bool:
        if self.data is None:
            return False
        valid = not self.strangers and not self.version_error
        for row in self.rows:
            if row.posted and not row.is_valid():
                valid = False
                for name in row.form.errors:
                    if name in row.form.fields:
                        row.form.fields[name].widget.attrs["aria-describedby"] = (
                            f"{row.form.prefix}-{name}-error"
                        )
        return valid

    def marks(self) -> list[Mark]:
        return [row.mark() for row in self.rows if row.posted]

    @property
    def problems(self) -> list[Problem]:
        """Every error, naming the pupil and the field, for the summary above the register."""
        problems = [Problem(self.version_error, "register")] if self.version_error else []
        for value in self.strangers:
            problems.append(
                Problem(
                    _(
                        "Pupil id %(id)s is not in group %(group)s on %(date)s; that row was "
                        "not saved."
                    )
                    % {
                        "id": value,
                        "group": self.lesson.group,
                        "date": date_format(self.lesson.date),
                    },
                    "register",
                )
            )
        for row in self.rows:
            if not row.posted or row.present or not row.form.is_bound:
                continue
            for name, errors in row.form.errors.items():
                label = row.form.fields[name].label if name in row.form.fields else ""
                anchor = row.form[name].id_for_label if name in row.form.fields else row.anchor
                for error in errors:
                    text = (
                        f"{row.pupil.full_name}, {label}: {error}"
                        if label
                        else (f"{row.pupil.full_name}: {error}")
                    )
                    problems.append(Problem(text, anchor))
        return problems

    def merged_with(self, changes: list[AttendanceChange]) -> QueryDict:
        """The posted data, taking the other save's mark wherever this form left a pupil's
        mark as it was loaded; where both changed a mark, this form's entry stays. (A form
        built from it is rebased: RegisterForm(..., rebase=version).)

        A pupil's mark at load time is the `old` of their first change after that version.
        """
        loaded: dict[int, dict[str, Any] | None] = {}
        for change in changes:  # oldest first
            loaded.setdefault(change.attendance.pupil_id, change.old)
        data = self.data.copy() if self.data is not None else QueryDict(mutable=True)
        taken = set()
        for row in self.rows:
            pupil = row.pupil.pk
            if (
                pupil in loaded
                and row.posted
                and row.is_valid()
                and _same_mark(row.mark(), loaded[pupil])
            ):
                taken.add(str(pupil))
        if taken:
            data.setlist("pupil", [p for p in data.getlist("pupil") if p not in taken])
            for key in [k for k in data if k.split("-", 1)[0][1:] in taken]:
                del data[key]
        return data


def _same_mark(mark: Mark, snapshot: dict[str, Any] | None) -> bool:
    """Whether a posted mark says the same as a history snapshot (None: present, unmarked)."""
    fields = mark.as_fields()
    was = snapshot or {"absent_minutes": 0, "late_minutes": 0, "is_valid": None, "reason": None}
    return bool(
        fields["absent_minutes"] == was["absent_minutes"]
        and fields["late_minutes"] == was["late_minutes"]
        and fields["is_valid"] == (was["is_valid"] if was["absent_minutes"] else None)
        and (fields["reason"].code if fields["reason"] else None) == was["reason"]
    )


class PeriodForm(forms.Form):
    """A period for the attendance views: first and last day, at most a year apart, within
    the ten school years before this one and the next (no pupil has attendance outside)."""

    start = forms.DateField(
        label=gettext_lazy("From"),
        widget=DateInput(),
        error_messages={"invalid": gettext_lazy("Enter the date as YYYY-MM-DD.")},
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        widget=DateInput(),
        error_messages={"invalid": gettext_lazy("Enter the date as YYYY-MM-DD.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = self.bounds()
        for name in ("start", "end"):
            day = data.get(name)
            if day is not None and not first <= day <= last:
                self.add_error(
                    name,
                    _("Choose a date from %(first)s to %(last)s.")
                    % {"first": first.isoformat(), "last": last.isoformat()},
                )
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The period ends before it starts."))
        elif start and end and (end - start).days > 366:
            self.add_error("end", _("Choose a period of at most one year."))
        return data

    @staticmethod
    def bounds() -> tuple[dt.date, dt.date]:
        """The first and last day a period may touch."""
        today = clock.today()
        return dt.date(today.year - 10, 1, 1), dt.date(today.year + 1, 12, 31)

    def period(self, default: tuple[Any, Any]) -> tuple[Any, Any]:
        """The chosen period, or the default when the form is empty or wrong."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return default


_SETTLE_SIGNER = signing.Signer(salt="fullfolj.attendance.settle")


def signed_version(row_id: int, version: int) -> str:
    """A lesson version for one absence row, signed: the page carries it, cannot invent it."""
    return _SETTLE_SIGNER.sign(f"{row_id}.{version}")


class SignedVersionField(forms.CharField):
    """The signed version of one row (signed_version); cleans to the version as a number."""

    widget = forms.HiddenInput

    def __init__(self, row_id: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row_id = row_id

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            row, version = _SETTLE_SIGNER.unsign(text).split(".")
        except (signing.BadSignature, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if parse_id(row) != self.row_id:  # signed for another row
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(version)


class SettleForm(forms.Form):
    """Att avgöra: one choice per absence not yet known, saved for the whole page at once.

    Per row `s<id>` is the decision and `v<id>` the lesson version the page was loaded at; the
    posted `row` list names the rows the page showed, so a row settled meanwhile is noticed.
    """

    def __init__(
        self,
        rows: list[LessonAttendance],
        reasons: dict[str, AbsenceReason],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.reasons = reasons
        valid = [(r.code, r.name) for r in reasons.values() if r.is_valid]
        invalid = [(r.code, r.name) for r in reasons.values() if not r.is_valid]
        choices = [
            (UNKNOWN, _("Not yet known")),
            (_("Valid"), valid),
            (_("Invalid"), [(INVALID, _("Invalid, no reason code")), *invalid]),
        ]
        for row in rows:
            when = date_format(row.date, "j F")
            self.fields[f"s{row.pk}"] = forms.ChoiceField(
                label=_("Decision for %(pupil)s, %(date)s, %(subject)s")
                % {"pupil": row.pupil.full_name, "date": when, "subject": row.lesson.subject},
                choices=choices,
                required=False,
                initial=UNKNOWN,
                error_messages={"invalid_choice": _("Unknown reason code “%(value)s”.")},
            )
            self.fields[f"v{row.pk}"] = SignedVersionField(
                row.pk,
                initial=signed_version(row.pk, row.lesson.version),
                error_messages={"invalid": _("The form is damaged: reload the page.")},
            )

    @property
    def is_damaged(self) -> bool:
        """Whether a version the page carried was altered (the hidden fields, not a choice)."""
        return any(name.startswith("v") for name in self.errors)

    def table(self) -> list[tuple[LessonAttendance, forms.BoundField, forms.BoundField]]:
        return [(row, self[f"s{row.pk}"], self[f"v{row.pk}"]) for row in self.rows]

    def settlements(self) -> list[Settlement]:
        """The rows given a decision; rows left "not yet known" are not touched."""
        decided = []
        for row in self.rows:
            status = self.cleaned_data.get(f"s{row.pk}") or UNKNOWN
            if status == UNKNOWN:
                continue
            reason = self.reasons.get(status)
            decided.append(
                Settlement(
                    attendance_id=row.pk,
                    expected_version=self.cleaned_data[f"v{row.pk}"],
                    is_valid=reason.is_valid if reason else False,
                    reason=reason,
                )
            )
        return decided
