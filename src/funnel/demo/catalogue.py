"""``flask --app funnel demo``: a realistic, deterministic demo catalogue, two demo accounts and,
when asked, a history of visits and orders (``demo.history``).

Product ``n`` is always the same (titles, SKUs, prices, stock are drawn from generators seeded
with ``n``), so the same ``--products N`` gives the same catalogue on any empty database, and a
second run skips what exists (slugs and SKUs are deterministic). Images come from a small
palette (one per initial letter) rendered once and shared by many products.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from funnel.catalog.models import THUMBNAIL_SIZES, thumbnail_name
from funnel.catalog.queries import product_count
from funnel.catalog.services import slugify
from funnel.catalog.services.bulk import (
    CategorySpec,
    ImageSpec,
    ProductSpec,
    VariantSpec,
    ensure_categories,
    insert_products,
)
from funnel.core import clock
from funnel.core.database import refresh_planner_statistics

BATCH_SIZE = 2000
SEED = 20_261_126
IMAGE_SIZE = 800

DEMO_ACCOUNTS = (
    ("admin@example.com", "funnel-admin-demo-2026", "ADMIN"),
    ("customer@example.com", "funnel-customer-demo-2026", "CUSTOMER"),
)

SIZES_CLOTHING = ("XS", "S", "M", "L", "XL")
SIZES_SHOES = ("38", "39", "40", "41", "42", "43", "44", "45")
COLOURS = ("Black", "White", "Red", "Blue", "Green", "Grey", "Navy", "Yellow")
ADJECTIVES = (
    "Classic", "Everyday", "Essential", "Premium", "Compact", "Vintage", "Modern", "Rustic",
    "Cosy", "Bold", "Lightweight", "Sturdy", "Organic", "Handmade", "Smart", "Urban",
)  # fmt: skip


@dataclass(frozen=True)
class Leaf:
    """A subcategory products are put in: how to name, price and vary them."""

    slug: str
    name: str
    parent_slug: str
    sku_prefix: str
    nouns: tuple[str, ...]
    price_range: tuple[int, int]  # whole major units
    scheme: str  # clothing | shoes | colour | format | single


# parent | slug | name | SKU prefix | nouns | price range (major units) | variant scheme
CATALOGUE_TABLE = """
Clothing | t-shirts | T-shirts | TSH | T-shirt, Tee, Polo | 12-45 | clothing
Clothing | jackets | Jackets | JKT | Jacket, Parka, Windbreaker | 60-240 | clothing
Clothing | trousers | Trousers | TRS | Chinos, Jeans, Joggers | 35-120 | clothing
Shoes | trainers | Trainers | TRN | Trainers, Sneakers, Runners | 45-160 | shoes
Shoes | boots | Boots | BOT | Boots, Chelsea boots, Hiking boots | 70-220 | shoes
Home | bedding | Bedding | BED | Duvet cover, Pillowcase, Throw | 20-110 | colour
Home | lighting | Lighting | LGT | Desk lamp, Floor lamp, Pendant light | 25-180 | colour
Kitchen | cookware | Cookware | CKW | Frying pan, Saucepan, Casserole dish | 18-150 | single
Kitchen | tableware | Tableware | TBW | Mug, Dinner plate, Bowl | 6-40 | colour
Garden | garden-tools | Garden tools | GDT | Trowel, Pruner, Rake | 8-70 | single
Garden | plants | Plants | PLT | Fern, Olive tree, Lavender | 5-90 | single
Books | fiction | Fiction | FIC | Novel, Mystery, Saga | 8-30 | format
Books | non-fiction | Non-fiction | NFC | Guide, Cookbook, Biography | 10-45 | format
Toys | puzzles | Puzzles | PZL | Jigsaw, Puzzle box, Brain teaser | 8-40 | single
Toys | building-sets | Building sets | BLD | Building set, Marble run, Block kit | 15-120 | single
Sport | fitness | Fitness | FIT | Yoga mat, Kettlebell, Resistance band | 10-90 | colour
Sport | cycling | Cycling | CYC | Helmet, Bike light, Cycling gloves | 15-130 | clothing
Beauty | skincare | Skincare | SKN | Face cream, Serum, Cleanser | 9-60 | single
Beauty | fragrance | Fragrance | FRG | Eau de parfum, Body mist, Candle | 20-110 | single
Electronics | audio | Audio | AUD | Headphones, Speaker, Earbuds | 25-350 | colour
Electronics | accessories | Accessories | ACC | Charger, Cable, Power bank | 8-80 | colour
Stationery | notebooks | Notebooks | NTB | Notebook, Journal, Sketchbook | 4-30 | colour
Stationery | pens | Pens | PEN | Fountain pen, Pencil set, Marker set | 3-90 | single
Pets | dogs | Dogs | DOG | Dog bed, Lead, Chew toy | 6-120 | clothing
Pets | cats | Cats | CAT | Scratching post, Cat bed, Feather wand | 5-90 | single
"""


def _parse_catalogue(table: str) -> tuple[list[tuple[str, str]], tuple[Leaf, ...]]:
    tops: dict[str, str] = {}
    leaves: list[Leaf] = []
    for line in table.strip().splitlines():
        top_name, slug, name, prefix, nouns, prices, scheme = (
            cell.strip() for cell in line.split("|")
        )
        top_slug = slugify(top_name)
        tops.setdefault(top_slug, top_name)
        low, high = (int(bound) for bound in prices.split("-"))
        nouns_tuple = tuple(noun.strip() for noun in nouns.split(","))
        leaves.append(Leaf(slug, name, top_slug, prefix, nouns_tuple, (low, high), scheme))
    return list(tops.items()), tuple(leaves)


TOP_CATEGORIES, LEAVES = _parse_catalogue(CATALOGUE_TABLE)


def category_specs() -> list[CategorySpec]:
    specs: list[CategorySpec] = []
    for position, (slug, name) in enumerate(TOP_CATEGORIES):
        description = f"Everything {name.lower()}, chosen for you."
        specs.append(CategorySpec(slug=slug, name=name, position=position, description=description))
        leaves = [leaf for leaf in LEAVES if leaf.parent_slug == slug]
        specs.extend(
            CategorySpec(slug=leaf.slug, name=leaf.name, parent_slug=slug, position=index)
            for index, leaf in enumerate(leaves)
        )
    return specs


def _variants(leaf: Leaf, number: int, rng: random.Random) -> list[VariantSpec]:
    base = rng.randint(*leaf.price_range) * 100 + rng.choice((0, 50, 99))
    code = f"{leaf.sku_prefix}-{number:06d}"

    def stock() -> int:
        return 0 if rng.random() < 0.15 else rng.randint(1, 60)

    if leaf.scheme in {"clothing", "shoes"}:
        sizes = SIZES_CLOTHING if leaf.scheme == "clothing" else SIZES_SHOES
        start = rng.randint(0, len(sizes) - 3)
        chosen_sizes = sizes[start : start + rng.randint(2, 3)]
        colours = rng.sample(COLOURS, rng.randint(1, 2))
        return [
            VariantSpec(
                sku=f"{code}-{size}-{colour.upper()}",
                price_amount=base + (index * 100 if leaf.scheme == "shoes" else 0),
                stock_quantity=stock(),
                options=(("Size", size), ("Colour", colour)),
            )
            for colour in colours
            for index, size in enumerate(chosen_sizes)
        ]
    if leaf.scheme == "colour":
        return [
            VariantSpec(
                sku=f"{code}-{colour.upper()}",
                price_amount=base,
                stock_quantity=stock(),
                options=(("Colour", colour),),
            )
            for colour in rng.sample(COLOURS, rng.randint(1, 3))
        ]
    if leaf.scheme == "format":
        return [
            VariantSpec(
                sku=f"{code}-PB",
                price_amount=base,
                stock_quantity=stock(),
                options=(("Format", "Paperback"),),
            ),
            VariantSpec(
                sku=f"{code}-HB",
                price_amount=base + 800,
                stock_quantity=stock(),
                options=(("Format", "Hardback"),),
            ),
        ]
    return [VariantSpec(sku=code, price_amount=base, stock_quantity=stock(), title="Standard")]


class DemoCatalogue:
    """Deterministic product specs; product ``number`` depends on ``number`` alone."""

    def __init__(self, media_root: Path, currency: str) -> None:
        self.media_root = media_root
        self.currency = currency
        # Faker is loaded here, not with the module: every web worker registers the demo
        # command, and Faker's providers would cost each of them about 12 MB it never uses.
        from faker import Faker

        self.faker = Faker("en_US")
        self.start = clock.utcnow().replace(microsecond=0)
        self.palette = ImagePalette(media_root)

    def product(self, number: int) -> ProductSpec:
        rng = random.Random(SEED * 1_000_003 + number)
        leaf = LEAVES[(number - 1) % len(LEAVES)]
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(leaf.nouns).lower()}"
        title = title[0].upper() + title[1:] + f" {self.faker_word(rng)}"
        self.faker.seed_instance(SEED + number)
        description = self.faker.paragraph(nb_sentences=3)
        image = self.palette.image_for(title)
        return ProductSpec(
            slug=f"{slugify(title)}-{number}",
            title=title,
            category_slug=leaf.slug,
            description=description,
            currency=self.currency,
            created_at=self.start - timedelta(minutes=number),
            variants=_variants(leaf, number, rng),
            images=(
                ImageSpec(filename=image, alt_text=title, width=IMAGE_SIZE, height=IMAGE_SIZE),
            ),
            is_featured=number % 23 == 1,
            seo_title=f"{title} | {leaf.name}",
            seo_description=description[:300],
        )

    @staticmethod
    def faker_word(rng: random.Random) -> str:
        return rng.choice(
            ("Alpine", "Harbour", "Meadow", "Summit", "Coast", "Forest", "Nova", "Orbit", "Atlas",
             "Ember", "Willow", "Cedar", "Aurora", "Pebble", "Drift", "Zephyr", "Quartz", "Juniper")
        )  # fmt: skip

    def batches(self, total: int, size: int) -> Iterator[list[ProductSpec]]:
        for start in range(1, total + 1, size):
            yield [
                self.product(number) for number in range(start, min(total, start + size - 1) + 1)
            ]


class ImagePalette:
    """One rendered image (and its thumbnails) per initial letter, shared by many products."""

    COLOURS = ((231, 76, 60), (52, 152, 219), (46, 204, 113), (155, 89, 182), (241, 196, 15),
               (230, 126, 34), (26, 188, 156), (52, 73, 94))  # fmt: skip

    def __init__(self, media_root: Path) -> None:
        self.media_root = media_root
        self.rendered: dict[str, str] = {}

    def image_for(self, title: str) -> str:
        letter = next((char for char in title.upper() if "A" <= char <= "Z"), "F")
        if letter not in self.rendered:
            self.rendered[letter] = self._render(letter)
        return self.rendered[letter]

    def _render(self, letter: str) -> str:
        filename = f"demo/{letter.lower()}.png"
        path = self.media_root / filename
        if path.exists() and all(
            (self.media_root / thumbnail_name(filename, size)).exists() for size in THUMBNAIL_SIZES
        ):
            return filename
        from PIL import Image, ImageDraw, ImageFont  # the demo's own: no web worker loads it

        index = ord(letter) - ord("A")
        colour = self.COLOURS[index % len(self.COLOURS)]
        image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), (245, 245, 240))
        draw = ImageDraw.Draw(image)
        box = (120, 120, IMAGE_SIZE - 120, IMAGE_SIZE - 120)
        if index % 3 == 0:
            draw.ellipse(box, fill=colour)
        elif index % 3 == 1:
            draw.rounded_rectangle(box, radius=60, fill=colour)
        else:
            draw.polygon([(400, 110), (690, 650), (110, 650)], fill=colour)
        font = ImageFont.load_default(size=280)
        draw.text((400, 420), letter, fill=(255, 255, 255), font=font, anchor="mm")
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, "PNG", optimize=True)
        for size in THUMBNAIL_SIZES:
            thumbnail = image.copy()
            thumbnail.thumbnail((size, size))
            thumbnail.save(self.media_root / thumbnail_name(filename, size), "PNG", optimize=True)
        return filename


def load_demo_catalogue(products: int, *, progress: bool = True) -> int:
    """Create the demo categories and products 1..``products`` that do not exist yet.

    Returns how many products were created. Side effects: one transaction per batch, image
    files under MEDIA_ROOT.
    """
    from tqdm import tqdm

    config = current_app.config
    category_ids = ensure_categories(category_specs())
    catalogue = DemoCatalogue(Path(config["MEDIA_ROOT"]), config["CURRENCY"])
    created = 0
    with tqdm(total=products, unit="product", file=sys.stderr, disable=not progress) as bar:
        for batch in catalogue.batches(products, BATCH_SIZE):
            created += insert_products(batch, category_ids)
            bar.update(len(batch))
    return created


def create_demo_accounts() -> list[tuple[str, str, bool]]:
    """Create the demo admin and customer unless they exist: (email, password, was_created)."""
    from funnel.accounts.models import Role
    from funnel.accounts.queries import find_user_by_email
    from funnel.accounts.services import create_user

    accounts: list[tuple[str, str, bool]] = []
    for email, password, role in DEMO_ACCOUNTS:
        exists = find_user_by_email(email) is not None
        if not exists:
            create_user(email, password, role=Role[role], is_email_verified=True)
        accounts.append((email, password, not exists))
    return accounts


def _load_history(events: int, orders: int, days: int) -> None:
    from funnel.demo.history import load_demo_history

    try:
        written = load_demo_history(
            events=events, orders=orders, days=days, currency=current_app.config["CURRENCY"]
        )
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    if written == (0, 0):
        click.echo("Demo history: there already; nothing added.")
    else:
        click.echo(f"Demo history: {written[0]} funnel events and {written[1]} paid orders.")


def _print_sign_ins(accounts: Sequence[tuple[str, str, bool]]) -> None:
    click.echo("Demo sign-ins (development only):")
    for email, password, _created in accounts:
        click.echo(f"  {email}  password: {password}")


@click.command("demo")
@click.option(
    "--products",
    default=200,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="How many demo products the catalogue should hold.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when products exist already.")
@click.option(
    "--events",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100_000_000),
    help="Funnel events of a past of visits to write (for the reports).",
)
@click.option(
    "--orders",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Paid orders of that past to write.",
)
@click.option(
    "--days",
    default=365,
    show_default=True,
    type=click.IntRange(1, 3660),
    help="How many days before now that past spans.",
)
@with_appcontext
def demo_command(products: int, if_empty: bool, events: int, orders: int, days: int) -> None:
    """Load the demo catalogue and the demo accounts, and a past of visits and orders when
    asked (running it again adds nothing twice)."""
    if if_empty and product_count() > 0:
        click.echo("The catalogue already has products: demo data not loaded.")
    else:
        created = load_demo_catalogue(products)
        click.echo(f"Demo catalogue: {created} products created, {product_count()} in total.")
    if events or orders:
        _load_history(events, orders, days)
    accounts = create_demo_accounts()
    if refresh_planner_statistics():
        click.echo("Planner statistics refreshed (ANALYZE).")
    if current_app.config["FUNNEL_ENV"] == "development":
        _print_sign_ins(accounts)
