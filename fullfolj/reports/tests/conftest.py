from fullfolj.reports.tests.town import town

__all__ = ["town"]
