"""English formats where they differ from Django's: a day and month as short as the date
format's, so a period reads "Aug. 17–Dec. 5, 2026"."""

MONTH_DAY_FORMAT = "N j"
