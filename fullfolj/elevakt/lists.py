"""How a pupil list is sorted, filtered and paged: the query string read, checked and applied.

Sorting and filtering work on rows already composed in a fixed number of queries, so a page of
50 costs the same queries as a page of 5 (and the access log names only the page shown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, cast

from django import forms
from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.translation import gettext_lazy

from fullfolj.schools.models import grade_name

R = TypeVar("R")
PAGE_SIZE = 50

WINDOWS = (("term", gettext_lazy("this term")), ("recent", gettext_lazy("the last four weeks")))


@dataclass(frozen=True)
class SortColumn:
    """A column the list can be sorted by, and the aria-sort and link its header gets."""

    key: str
    aria: str | None  # "ascending" / "descending" on the sorted column, else None
    next: str  # the sort parameter the header's link asks for


def sort_choices(keys: Iterable[str]) -> list[tuple[str, str]]:
    return [(p + k, p + k) for k in keys for p in ("", "-")]


class QueryForm(forms.Form):
    """A list's query string: every field optional; a bad one is left out and named."""

    def valid(self) -> dict[str, Any]:
        """The fields that are valid (a bad one is left out and reported by `problems`)."""
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def problems(self) -> list[str]:
        """Each bad parameter as "label (name): reason", for the page."""
        return [
            f"{self.fields[name].label} ({name}): {' '.join(str(e) for e in errors)}"
            for name, errors in self.errors.items()
        ]


class ListForm(QueryForm):
    """The query string of a pupil list."""

    sort = forms.ChoiceField(label=gettext_lazy("Sort by"), required=False, choices=())
    class_name = forms.CharField(label=gettext_lazy("Class"), required=False, max_length=20)
    grade = forms.IntegerField(
        label=gettext_lazy("Grade year"), required=False, min_value=0, max_value=9
    )
    min_absence = forms.DecimalField(
        label=gettext_lazy("Absence at least (%)"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
        max_digits=4,
        localize=True,
    )
    window = forms.ChoiceField(
        label=gettext_lazy("during"), required=False, choices=WINDOWS, initial="term"
    )
    page = forms.IntegerField(label=gettext_lazy("Page"), required=False, min_value=1)

    def __init__(self, data: QueryDict, *, sort_keys: Sequence[str]) -> None:
        super().__init__(data)
        sort = cast("forms.ChoiceField", self.fields["sort"])
        sort.choices = [("", ""), *sort_choices(sort_keys)]


def sort_rows(
    rows: list[R], sort: str, keys: Mapping[str, Callable[[R], Any]], default: str
) -> tuple[list[R], dict[str, SortColumn]]:
    """The rows sorted by `sort` ("key" or "-key"), rows without a value last either way; and
    each sortable column's header state."""
    sort = sort or default
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    get = keys[key]
    # Each row's key once: a school's list sorts thousands of rows on every request.
    keyed = [(get(r), r) for r in rows]
    known = [(k, r) for k, r in keyed if k is not None]
    known.sort(key=lambda pair: pair[0], reverse=descending)
    unknown = [r for k, r in keyed if k is None]
    columns = {
        k: SortColumn(
            k,
            ("descending" if descending else "ascending") if k == key else None,
            ("" if descending else "-") + k if k == key else k,
        )
        for k in keys
    }
    return [r for _k, r in known] + unknown, columns


def page_of(rows: Sequence[R], number: int | None) -> Page:
    """One page of PAGE_SIZE rows; a number past the end shows the last page."""
    return Paginator(rows, PAGE_SIZE).get_page(number or 1)


def grade_label(grade: int) -> str:
    return grade_name(grade)


# Swedish alphabetical order puts å, ä, ö after z (and in that order).
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}"})


def name_key(pupil: Any) -> tuple[str, str]:
    """A pupil's sort key by last and first name, in Swedish alphabetical order."""
    return (
        pupil.last_name.casefold().translate(_SWEDISH_ORDER),
        pupil.first_name.casefold().translate(_SWEDISH_ORDER),
    )
