"""``flask --app funnel payments reconcile [--hours 48]``: end every gateway charge of the window
in a paid order or a refund, now, and print what was found and done (US-69)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from funnel.checkout import services
from funnel.core.errors import DomainError

payments_group = AppGroup("payments", help="The gateways' charges against the orders (US-69).")


@payments_group.command("reconcile")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 90),
    default=48,
    show_default=True,
    help="How far back to list the gateways' charges.",
)
def reconcile_command(hours: int) -> None:
    """Match each gateway charge of the last HOURS with its payment and order: record the
    ones our books missed and pay their orders, refund those no order can take, report the
    rest. Running it again changes nothing twice."""
    try:
        report = services.reconcile_charges(timedelta(hours=hours))
    except DomainError as error:
        raise click.ClickException(f"Nothing reconciled: {error.detail}") from error
    for found in report.findings:
        if found.finding == services.Finding.MATCHED:
            continue
        click.echo(
            f"{found.finding.value:<10}  {found.gateway} {found.charge.gateway_payment_id}  "
            f"{found.charge.amount.format()}  {found.reference or '-'}  {found.detail}"
        )
    counts = ", ".join(f"{report.count(finding)} {finding.value}" for finding in services.Finding)
    click.echo(f"{len(report.findings)} charges since {report.since:%Y-%m-%d %H:%M} UTC: {counts}.")
