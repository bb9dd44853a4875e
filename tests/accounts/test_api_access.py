"""The bearer helper every API blueprint uses: 401 without a live token, 403 for non-staff."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask_smorest import Blueprint

from funnel.accounts.access import api_user, authenticated
from funnel.accounts.models import Role, User
from funnel.core.errors import AuthenticationRequired, PermissionDenied
from tests.factories.accounts import UserFactory

Bearer = Callable[..., dict[str, str]]
staff_only_blueprint = Blueprint("staff_only_example", __name__)


@authenticated(staff_only_blueprint, staff=True)
def staff_operation() -> str:
    return api_user().email


@pytest.mark.backends("sqlite")
def test_a_staff_operation_refuses_a_customer_with_403(
    app: Flask, customer: User, bearer: Bearer
) -> None:
    with app.test_request_context(headers=bearer(customer)), pytest.raises(PermissionDenied):
        staff_operation()


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_a_staff_operation_runs_for_staff_and_admins(
    app: Flask, bearer: Bearer, role: Role
) -> None:
    member = UserFactory(email=f"{role.value}@example.com", role=role)

    with app.test_request_context(headers=bearer(member)):
        assert staff_operation() == f"{role.value}@example.com"


@pytest.mark.backends("sqlite")
def test_a_staff_operation_refuses_anonymous_callers_with_401(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(AuthenticationRequired):
        staff_operation()


def test_the_staff_requirement_is_documented_with_401_and_403() -> None:
    documented = staff_operation._apidoc  # type: ignore[attr-defined]

    assert documented["manual_doc"]["security"] == [{"bearerAuth": []}]
    assert set(documented["response"]["responses"]) == {401, 403}
