"""Saving lists of pupils and setting up a region."""

from __future__ import annotations

from fullfolj.reports import actions
from fullfolj.reports.models import RegionMember


def test_a_list_of_the_pupils_over_the_line_in_a_term(town):
    cohort = actions.save_absence_cohort(town.school, town.ht25, by=None)
    # HT 2025: G2 10 %, G4 30 %, G5 10 %, B2 20 %, B5 25 % (at the line counts); M1 had moved
    names = sorted(cohort.pupils.values_list("first_name", flat=True))
    assert names == ["B2", "B5", "G2", "G4", "G5"]
    assert cohort.chosen_on == town.ht25.end
    again = actions.save_absence_cohort(town.school, town.ht25, by=None)
    assert again.pk == cohort.pk and again.pupils.count() == 5


def test_a_runs_flagged_pupils_saved_once(town):
    cohort = actions.save_run_as_cohort(town.run, school=town.school, by=town.principal)
    assert cohort.pupils.count() == 12
    assert actions.save_run_as_cohort(town.run, school=town.school, by=None).pk == cohort.pk


def test_a_region_brought_up_to_date(town):
    region = actions.set_up_region("R", sharing=[town.org], not_sharing=[], analysts=[town.admin])
    actions.set_up_region("R", sharing=[], not_sharing=[town.org], analysts=[])
    assert RegionMember.objects.get(region=region, organiser=town.org).shares is False
    assert list(region.analysts.all()) == [town.admin]
