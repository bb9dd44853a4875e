"""What the catalogue's use cases write to the audit log: the fields of each kind of object.

Each use case takes a snapshot of its object before and after the change and records the
fields that differ (``funnel.audit``), in its own transaction; a use case run by the system
(no ``actor_user_id``) records nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from funnel.audit import services as audit
from funnel.catalog.models import Category, Product, ProductImage, Variant, VariantOptionValue
from funnel.extensions import db

Fields = dict[str, Any]


def category_fields(category: Category) -> Fields:
    return {
        "name": category.name,
        "slug": category.slug,
        "parent_id": category.parent_id,
        "description": category.description,
        "position": category.position,
    }


def product_fields(product: Product) -> Fields:
    return {
        "title": product.title,
        "slug": product.slug,
        "category_id": product.category_id,
        "description": product.description,
        "seo_title": product.seo_title,
        "seo_description": product.seo_description,
        "is_featured": product.is_featured,
        "status": product.status.value,
    }


def variant_fields(variant: Variant) -> Fields:
    options = (
        db.session.execute(
            select(VariantOptionValue.name, VariantOptionValue.value)
            .where(VariantOptionValue.variant_id == variant.id)
            .order_by(VariantOptionValue.position, VariantOptionValue.id)
        )
        .tuples()
        .all()
    )
    return {
        "product_id": variant.product_id,
        "sku": variant.sku,
        "title": variant.title,
        "price_amount": variant.price_amount,
        "currency": variant.currency,
        "options": dict(options),
    }


def image_fields(image: ProductImage) -> Fields:
    return {
        "product_id": image.product_id,
        "filename": image.filename,
        "alt_text": image.alt_text,
        "position": image.position,
    }


def record_created(
    object_type: str, object_id: int, label: str, fields: Fields, actor_user_id: int | None
) -> None:
    audit.record(
        f"{object_type}.created",
        actor_user_id=actor_user_id,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        after=fields,
    )


def record_changed(
    object_type: str,
    object_id: int,
    label: str,
    before: Fields,
    after: Fields,
    actor_user_id: int | None,
    *,
    action: str = "updated",
) -> None:
    """Record the fields that differ; nothing when none does."""
    changed_before, changed_after = audit.changed_fields(before, after)
    if not changed_after:
        return
    audit.record(
        f"{object_type}.{action}",
        actor_user_id=actor_user_id,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        before=changed_before,
        after=changed_after,
    )


def record_deleted(
    object_type: str, object_id: int, label: str, fields: Fields, actor_user_id: int | None
) -> None:
    audit.record(
        f"{object_type}.deleted",
        actor_user_id=actor_user_id,
        object_type=object_type,
        object_id=object_id,
        object_label=label,
        before=fields,
    )
