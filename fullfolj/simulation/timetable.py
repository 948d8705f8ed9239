"""Subjects, the weekly timetable per grade (timplan) and who teaches what.

Weekly lessons per subject follow the proportions of Skolverket's timplan for grundskolan
(Skolförordningen bilaga 1): most Swedish and mathematics in the early years, all subjects from
year 4, modern languages (M2) from year 6. Lessons per day rise from 4 in förskoleklass to about
7 in years 7-9, so the average pupil has about 6 lessons a school day, from 08:00-08:30 to at most
about 16:00.
"""

from __future__ import annotations

SUBJECTS: tuple[tuple[str, str], ...] = (
    ("SV", "Svenska"),
    ("SVA", "Svenska som andraspråk"),
    ("EN", "Engelska"),
    ("MA", "Matematik"),
    ("BI", "Biologi"),
    ("FY", "Fysik"),
    ("KE", "Kemi"),
    ("TK", "Teknik"),
    ("GE", "Geografi"),
    ("HI", "Historia"),
    ("RE", "Religionskunskap"),
    ("SH", "Samhällskunskap"),
    ("BL", "Bild"),
    ("HKK", "Hem- och konsumentkunskap"),
    ("IDH", "Idrott och hälsa"),
    ("MU", "Musik"),
    ("SL", "Slöjd"),
    ("M2", "Moderna språk"),
)
SUBJECT_INDEX: dict[str, int] = {code: index for index, (code, _name) in enumerate(SUBJECTS)}

# Lessons per weekday (Mon-Fri) and lessons per week per subject, by grade.
_F = ((4, 4, 4, 4, 4), {"SV": 6, "MA": 5, "BL": 3, "IDH": 2, "MU": 2, "TK": 1, "BI": 1})
_LOW = ((5, 5, 5, 5, 5), {
    "SV": 7, "MA": 5, "EN": 1, "IDH": 2, "BL": 2, "MU": 2, "SL": 2, "BI": 1, "GE": 1, "RE": 1,
    "TK": 1,
})  # fmt: skip
_MIDDLE = {
    "SV": 7, "MA": 5, "EN": 3, "IDH": 2, "BL": 1, "MU": 1, "SL": 2, "HKK": 1, "BI": 1, "FY": 1,
    "KE": 1, "TK": 1, "GE": 1, "HI": 1, "RE": 1, "SH": 1,
}  # fmt: skip
_SIX = {**_MIDDLE, "SV": 6, "M2": 1}
_UPPER = ((7, 7, 7, 7, 6), {
    "SV": 5, "MA": 5, "EN": 3, "M2": 3, "IDH": 2, "BL": 2, "MU": 1, "SL": 2, "HKK": 1, "BI": 2,
    "FY": 2, "KE": 1, "TK": 1, "GE": 1, "HI": 1, "RE": 1, "SH": 1,
})  # fmt: skip

PLAN: dict[int, tuple[tuple[int, ...], dict[str, int]]] = {
    0: _F, 1: _LOW, 2: _LOW, 3: _LOW,
    4: ((6, 6, 6, 6, 6), _MIDDLE), 5: ((6, 6, 6, 6, 6), _MIDDLE), 6: ((6, 6, 6, 6, 6), _SIX),
    7: _UPPER, 8: _UPPER, 9: _UPPER,
}  # fmt: skip


def lesson_minutes(grade: int, code: str) -> int:
    """Length of one lesson: 40 min in F, 45 in 1-3, 50 in 4-6, 45-70 in 7-9 (double periods),
    so that no school day ends after about four in the afternoon."""
    if code == "IDH":
        return 50 if grade <= 3 else 60
    if code in ("SL", "HKK"):
        return 60 if grade <= 6 else 70
    if grade == 0:
        return 40
    if grade <= 3:
        return 45
    if grade <= 6:
        return 50
    return 50 if code == "MA" else 45


# Teacher profiles: the subjects one teacher takes for a class. In F-6 two class teachers share
# a class (and mentor it); specialists teach idrott, musik, slöjd/hkk and moderna språk.
# In 7-9 subject teachers have the usual Swedish subject combinations.
PROFILES_F6: dict[str, tuple[str, ...]] = {
    "class_a": ("SV", "MA", "EN", "BL"),
    "class_b": ("BI", "FY", "KE", "TK", "GE", "HI", "RE", "SH"),
    "idh": ("IDH",),
    "mu": ("MU",),
    "sl": ("SL", "HKK"),
    "m2": ("M2",),
}
PROFILES_79: dict[str, tuple[str, ...]] = {
    "ma_no": ("MA", "BI", "FY", "KE", "TK"),
    "sv_so": ("SV", "GE", "HI", "RE", "SH"),
    "en_m2": ("EN", "M2"),
    "idh": ("IDH",),
    "bl": ("BL",),
    "mu": ("MU",),
    "sl_hkk": ("SL", "HKK"),
}
PER_CLASS_PROFILES = frozenset({"class_a", "class_b"})  # one such teacher per class


def profiles_for(grade: int) -> dict[str, tuple[str, ...]]:
    """Teacher profiles used for a class in `grade`."""
    return PROFILES_F6 if grade <= 6 else PROFILES_79


def graded_subjects(grade: int, reads_sva: bool) -> list[str]:
    """Subjects a pupil in `grade` gets a term grade in (from year 6); SVA replaces SV."""
    codes = [code for code in PLAN[grade][1] if code != "SV" or not reads_sva]
    return [*codes, "SVA"] if reads_sva else codes
