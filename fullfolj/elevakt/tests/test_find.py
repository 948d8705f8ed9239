"""Finding pupils: the search (name, class, personnummer) through the gate, and the pupil and
riskzon lists sorted, filtered and paged by the query string."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fullfolj.access.models import AccessLog
from fullfolj.attendance.actions import rebuild_pupil_days
from fullfolj.elevakt import lists
from fullfolj.elevakt.queries import SearchError, SearchQuery, parse_search
from fullfolj.lib import clock
from fullfolj.screening import actions
from fullfolj.screening.models import ScreeningRule
from tests import factories as f

pytestmark = pytest.mark.django_db

PUPILS = ("pupil", "other_pupil", "protected", "pupil_elsewhere", "moved_away")


def names_in(body: str, cast) -> set[str]:
    return {name for name in PUPILS if getattr(cast, name).last_name in body}


def search(client, who, q: str):
    client.force_login(who.user)
    return client.get(reverse("elevakt:search"), {"q": q})


def hits(response) -> str:
    """The results table of a search page (the query itself is echoed elsewhere)."""
    body = response.content.decode()
    if 'id="search-results"' not in body:
        return ""
    # Only the table: a random token further down (CSRF) may hold any two letters.
    return body.split('id="search-results"', 1)[1].split("</table>", 1)[0]


# --- Search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    ["Åkesson", "åkesson", "ÅKESSON", "kess", "Alva Åkesson", "alva 7a", "Alva"],
)
def test_search_finds_a_pupil_by_name_and_class_in_any_case(client, cast, q):
    body = search(client, cast.principal, q).content.decode()
    assert "Åkesson" in body
    assert "Bäckström" not in body  # every word must match


def test_search_by_class_lists_the_class_with_school(client, cast):
    response = search(client, cast.principal, "7A")
    body = response.content.decode()
    assert response.status_code == 200
    assert names_in(body, cast) == {"pupil", "other_pupil", "protected"}
    assert "3 elever hittades." in body
    assert "Norrskolan" in body


@pytest.mark.parametrize("form", ["full", "12 digits", "10 with dash", "10 digits", "spaces"])
def test_search_by_personnummer_with_or_without_century_and_dash(client, cast, form):
    pnr = cast.pupil_elsewhere.personnummer  # YYYYMMDD-NNNC
    digits = pnr.replace("-", "")
    q = {
        "full": pnr,
        "12 digits": digits,
        "10 with dash": pnr[2:],
        "10 digits": digits[2:],
        "spaces": f" {digits[2:8]} {digits[8:]} ",
    }[form]
    found = hits(search(client, cast.principal_elsewhere, q))
    assert names_in(found, cast) == {"pupil_elsewhere"}
    assert pnr not in found  # the number is not shown beside the name


def with_names(cast):
    """The administration with the names permission: an organiser-wide role that names pupils."""
    cast.admin.user.user_permissions.add(Permission.objects.get(codename="view_pupil_names"))
    return cast.admin


def test_search_by_date_of_birth_finds_everyone_born_that_day(client, cast):
    admin = with_names(cast)
    # Born 2012-05-04: everyone placed at the organiser's schools today but Dino.
    assert names_in(hits(search(client, admin, "120504")), cast) == {
        "pupil",
        "other_pupil",
        "protected",
    }
    assert names_in(hits(search(client, admin, "20170203")), cast) == {"pupil_elsewhere"}


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("a", "Skriv minst två tecken"),
        ("  ", None),  # nothing asked: the empty form, no message
        ("12345", "är inte ett personnummer"),
        ("2012050412345", "är inte ett personnummer"),
    ],
)
def test_search_explains_what_it_cannot_search_for(client, cast, q, message):
    response = search(client, cast.principal, q)
    body = response.content.decode()
    assert not names_in(body, cast)
    if message is None:
        assert response.status_code == 200
        assert 'role="alert"' not in body
    else:
        assert response.status_code == 400
        assert message in body
        assert 'role="alert"' in body


def test_search_says_so_when_nothing_matches(client, cast):
    response = search(client, cast.principal, "Zlatan")
    assert response.status_code == 200
    assert "Ingen elev som du får se matchar ”Zlatan”" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("teacher", {"pupil"}),  # Alva is in the teacher's group; the rest of 7A is not
        ("mentor", {"pupil", "protected"}),
        ("teacher_elsewhere", set()),
        ("outsider", set()),
        ("admin", set()),  # the administration without the names permission
    ],
)
def test_search_finds_only_pupils_the_gate_shows(client, cast, who, expected):
    assert names_in(hits(search(client, getattr(cast, who), "7A")), cast) == expected
    by_name = hits(search(client, getattr(cast, who), "Bäckström"))
    assert names_in(by_name, cast) == ({"other_pupil"} & expected)


def test_search_logs_every_pupil_shown_with_the_role_that_reached_them(client, cast):
    search(client, cast.mentor_principal, "Bäckström")
    search(client, cast.teacher, "7A")
    logged = set(AccessLog.objects.values_list("staff__username", "pupil__last_name", "role"))
    assert logged == {
        ("mentor_principal", "Bäckström", "mentor"),
        ("teacher", "Åkesson", "teacher"),
    }


def test_protected_identity_is_not_found_by_class_nor_shown_with_school_organiser_wide(
    client, cast
):
    admin = with_names(cast)
    by_class = search(client, admin, "7A").content.decode()
    assert names_in(hits(search(client, admin, "7A")), cast) == {"pupil", "other_pupil"}
    assert "2 elever hittades." in by_class  # the count gives nobody away either
    by_name = search(client, admin, "Cöster").content.decode()
    assert names_in(hits(search(client, admin, "Cöster")), cast) == {"protected"}
    assert "Norrskolan" not in by_name.split("<main")[1]
    assert "7A" not in hits(search(client, admin, "Cöster"))
    assert "Skyddade personuppgifter: skolan visas inte" in by_name


def test_protected_details_permission_shows_the_school_organiser_wide(client, cast):
    admin = with_names(cast)
    admin.user.user_permissions.add(Permission.objects.get(codename="view_protected_identity"))
    found = hits(search(client, admin, "7A"))
    assert names_in(found, cast) == {"pupil", "other_pupil", "protected"}
    assert "Norrskolan" in found


def test_search_field_is_in_the_header_for_roles_that_see_names(client, cast):
    client.force_login(cast.teacher.user)
    page = client.get(reverse("elevakt:my-groups")).content.decode()
    assert 'role="search"' in page
    assert '<label class="sr-only" for="header-search">' in page
    client.force_login(cast.admin.user)
    page = client.get(reverse("elevakt:overview")).content.decode()
    assert 'id="header-search"' not in page


def test_search_shows_at_most_a_page_of_hits_and_says_there_are_more(client, cast, monkeypatch):
    from fullfolj.elevakt import queries

    monkeypatch.setattr(queries, "SEARCH_LIMIT", 2)
    body = search(client, cast.principal, "7A").content.decode()
    assert len(names_in(body, cast)) == 2
    assert "De första 2 eleverna visas" in body
    assert AccessLog.objects.count() == 2


def test_parse_search_reads_numbers_and_words():
    assert parse_search("20120504-1234") == SearchQuery(digits="201205041234")
    assert parse_search("Alva  7A") == SearchQuery(words=("Alva", "7A"))
    assert parse_search("Anna-Karin") == SearchQuery(words=("Anna-Karin",))
    with pytest.raises(SearchError):
        parse_search("1")


# --- Pupil lists ----------------------------------------------------------------------------


def school_list(client, cast, **params):
    client.force_login(cast.principal.user)
    return client.get(reverse("elevakt:school-pupils", args=[cast.north.pk]), params)


def listed_order(body: str, cast) -> list[str]:
    table = body.split('id="pupil-list"')[1]
    found = [(table.find(getattr(cast, n).last_name), n) for n in PUPILS]
    return [n for position, n in sorted(found) if position >= 0]


def test_school_list_has_a_class_column_and_sorts_by_class_then_name(client, cast):
    body = school_list(client, cast).content.decode()
    # Swedish order: Å after Z.
    assert listed_order(body, cast) == ["other_pupil", "protected", "pupil"]
    assert '<label for="filter-min">Frånvaro minst (%)</label>' in body
    assert (
        '<th scope="col" rowspan="2" aria-sort="ascending"><a class="sort" href="?sort=-class">'
        in body
    )


def test_sorting_by_absence_puts_the_most_absent_first(client, cast):
    body = school_list(client, cast, sort="-term").content.decode()
    assert listed_order(body, cast)[0] == "pupil"
    assert 'aria-sort="descending"' in body
    assert school_list(client, cast, sort="name").status_code == 200


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"class_name": "7a"}, ["other_pupil", "protected", "pupil"]),
        ({"class_name": "3B"}, []),
        ({"grade": "7"}, ["other_pupil", "protected", "pupil"]),
        ({"min_absence": "50"}, ["pupil"]),
        ({"min_absence": "12,5", "window": "recent"}, ["pupil"]),
        ({"min_absence": "100,1"}, ["other_pupil", "protected", "pupil"]),  # bad: left out
    ],
)
def test_filters_narrow_the_list(client, cast, params, expected):
    body = school_list(client, cast, **params).content.decode()
    assert listed_order(body, cast) == expected


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"sort": "shoe_size"}, "Sortera efter (sort)"),
        ({"grade": "sju"}, "Årskurs (grade)"),
        ({"grade": "12"}, "Årskurs (grade)"),
        ({"min_absence": "mycket"}, "Frånvaro minst (%) (min_absence)"),
        ({"window": "year"}, "under (window)"),
        ({"page": "0"}, "Sida (page)"),
        ({"page": "x"}, "Sida (page)"),
    ],
)
def test_a_bad_parameter_is_named_and_the_list_still_shows(client, cast, params, named):
    response = school_list(client, cast, **params)
    body = response.content.decode()
    assert response.status_code == 400
    assert named in body
    assert listed_order(body, cast) == ["other_pupil", "protected", "pupil"]


def test_paging_shows_and_logs_one_page(client, cast, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    body = school_list(client, cast, page="2").content.decode()
    assert listed_order(body, cast) == ["pupil"]
    assert "Elever 3–3 av 3." in body
    assert "Sida 2 av 2" in body
    assert set(AccessLog.objects.values_list("pupil__last_name", flat=True)) == {"Åkesson"}
    past_the_end = school_list(client, cast, page="9").content.decode()
    assert listed_order(past_the_end, cast) == ["pupil"]


def _more_pupils(cast, n: int) -> None:
    for i in range(n):
        pupil = f.pupil(cast.org, f"Extra{i}", f"Elev{i:03d}")
        f.place(pupil, cast.north, cast.c7a, cast.year.start)


def test_the_list_costs_the_same_queries_for_more_rows(client, cast, django_assert_max_num_queries):
    client.force_login(cast.principal.user)
    url = reverse("elevakt:school-pupils", args=[cast.north.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _more_pupils(cast, 60)  # more than a page
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url, {"sort": "-term"}).content.decode()
    assert "Elever 1–50 av 63." in body


def test_search_costs_the_same_queries_for_more_hits(client, cast, django_assert_max_num_queries):
    client.force_login(cast.principal.user)
    url = reverse("elevakt:search")
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"q": "Bäckström"})
    _more_pupils(cast, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url, {"q": "7A"}).content.decode()
    assert "33 elever hittades." in body


# --- The riskzon list -----------------------------------------------------------------------


@pytest.fixture
def screened(cast):
    """The cast screened today by one rule: invalid absence of 15 % or more over four weeks;
    Alva (60 of 60 minutes invalid) is flagged."""
    ScreeningRule.objects.create(
        organiser=cast.org,
        code="invalid_4w",
        indicator="absence_invalid",
        comparison=">=",
        threshold=Decimal(15),
        window="28d",
    )
    actions.run_screening(cast.org, clock.today())
    return cast


def riskzon(client, cast, **params):
    client.force_login(cast.principal.user)
    return client.get(reverse("elevakt:school-riskzon", args=[cast.north.pk]), params)


def test_riskzon_shows_the_class_and_names_rules_in_words_in_its_filter(client, screened):
    body = riskzon(client, screened).content.decode()
    assert names_in(body, screened) == {"pupil"}
    assert '<td class="risk-class"><span class="risk-label">Klass: </span>7A</td>' in body
    assert '<option value="invalid_4w">Ogiltig frånvaro' in body


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"class_name": "7A"}, True),
        ({"class_name": "8C"}, False),
        ({"grade": "7"}, True),
        ({"grade": "8"}, False),
        ({"rule": "invalid_4w"}, True),
        ({"rule": "f_grades"}, False),
        ({"sort": "-signals"}, True),
    ],
)
def test_riskzon_filters_and_logs_only_what_it_shows(client, screened, params, shown):
    response = riskzon(client, screened, **params)
    body = response.content.decode()
    assert response.status_code == 200
    assert ("Åkesson" in body) is shown
    assert AccessLog.objects.filter(pupil=screened.pupil).exists() is shown


@pytest.mark.parametrize("params", [{"sort": "risk"}, {"grade": "x"}, {"school": "-1"}])
def test_riskzon_names_a_bad_parameter(client, screened, params):
    response = riskzon(client, screened, **params)
    assert response.status_code == 400
    body = response.content.decode()
    assert f"({next(iter(params))})" in body
    assert "Åkesson" in body


def test_municipality_list_with_names_filters_by_school(client, screened):
    cast = screened
    cast.admin.user.user_permissions.add(Permission.objects.get(codename="view_pupil_names"))
    client.force_login(cast.admin.user)
    url = reverse("elevakt:municipality-riskzon")
    assert "Åkesson" in client.get(url, {"school": cast.north.pk}).content.decode()
    assert "Åkesson" not in client.get(url, {"school": cast.south.pk}).content.decode()


def test_riskzon_queries_do_not_grow_with_the_flagged(
    client, screened, django_assert_max_num_queries
):
    cast = screened
    actions.run_screening(cast.org, clock.today())  # a previous run: new and left are listed
    client.force_login(cast.principal.user)
    url = reverse("elevakt:school-riskzon", args=[cast.north.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _more_pupils(cast, 20)
    for placement in cast.c7a.placements.filter(pupil__first_name__startswith="Extra"):
        f.mark(cast.lesson, placement.pupil, absent=60, valid=False, reason=cast.reasons["OGIL"])
    rebuild_pupil_days()
    actions.run_screening(cast.org, clock.today())
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url).content.decode()
    assert body.count('class="risk-class"') == 21
