import click


@click.command("demo")
@click.option("--products", default=200)
@click.option("--if-empty", is_flag=True)
def demo_command(products: int, if_empty: bool) -> None:
    """Load demo data."""
    click.echo(f"{products} {if_empty}")
