"""The API's page for people: every operation from the schema the app serves, in words."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


def docs(request: HttpRequest) -> HttpResponse:
    """Public like the schema: it describes the API and shows no one's data."""
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "responses": sorted(operation.get("responses", {})),
        }
        for path, item in schema.get("paths", {}).items()
        for method in METHODS
        if (operation := item.get(method))
    ]
    return render(request, "api/docs.html", {"title": _("REST API"), "operations": operations})
