"""``flask --app funnel create-admin EMAIL``: create an admin, or promote an existing account;
``flask --app funnel reset-two-factor EMAIL``: turn an account's two-factor sign-in off."""

from __future__ import annotations

import click

from funnel.accounts import queries, services
from funnel.accounts.errors import EmailTaken, InvalidEmail, PasswordRejected
from funnel.accounts.models import Role, normalise_email


@click.command("create-admin")
@click.argument("email")
def create_admin_command(email: str) -> None:
    """Create an admin account for EMAIL (the password is asked for twice, hidden).

    If EMAIL already has an account, offer to make it an admin instead; its password is kept.
    """
    try:
        normalised = normalise_email(email)
    except InvalidEmail as error:
        raise click.ClickException(error.detail) from error

    existing = queries.find_user_by_email(normalised)
    if existing is not None:
        if existing.role == Role.ADMIN:
            click.echo(f"{normalised} is already an admin.")
            return
        click.confirm(
            f"{normalised} already has an account (role: {existing.role.value}). Make it an admin?",
            abort=True,
        )
        services.change_role(existing.id, Role.ADMIN)
        click.echo(f"{normalised} is now an admin.")
        return

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        # The operator vouches for the address they type, so it counts as verified.
        services.create_user(normalised, password, role=Role.ADMIN, is_email_verified=True)
    except (PasswordRejected, EmailTaken, InvalidEmail) as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"Created the admin account {normalised}.")


@click.command("reset-two-factor")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Turn off two-factor sign-in for EMAIL, for someone who lost both their phone and their
    recovery codes. Their sessions and API tokens end; they sign in with their password and
    set it up again.
    """
    user = queries.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email {email}.")
    if services.remove_two_factor(user.id):
        click.echo(f"Two-factor sign-in is off for {user.email}; its sessions have ended.")
    else:
        click.echo(f"{user.email} had no two-factor sign-in.")
