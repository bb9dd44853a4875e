import click


@click.command("create-admin")
@click.argument("email")
def create_admin_command(email: str) -> None:
    """Create an admin account."""
    click.echo(email)
