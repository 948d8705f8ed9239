"""What the test provider says about a person beyond the standard claims."""

from typing import Any

from oidc_provider.lib.claims import ScopeClaims

from .models import Employee

SECOND_FACTOR_GROUP = "second-factor"


class EmployeeScopeClaims(ScopeClaims):  # type: ignore[misc]
    """The `employee` scope: the person's employee number, from userinfo."""

    info_employee = ("Employee number", "Your employee number.")

    def scope_employee(self) -> dict[str, Any]:
        employee = Employee.objects.filter(user=self.user).first()
        return {"employee_number": employee.number if employee else None}


def add_authentication_methods(id_token: dict[str, Any], user: Any, **kwargs: Any) -> dict:
    """`amr` (RFC 8176): a password, and a one-time code for the second-factor group."""
    methods = ["pwd"]
    if user.groups.filter(name=SECOND_FACTOR_GROUP).exists():
        methods.append("otp")
    id_token["amr"] = methods
    return id_token
