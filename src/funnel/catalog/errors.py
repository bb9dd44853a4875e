"""Catalogue errors, each with a stable ``code`` (listed in the API guide)."""

from __future__ import annotations

from dataclasses import dataclass

from funnel.core.errors import Conflict, NotFound, ValidationFailed


class CategoryNotFound(NotFound):
    code = "category_not_found"
    title = "Category not found"


class ProductNotFound(NotFound):
    code = "product_not_found"
    title = "Product not found"


class VariantNotFound(NotFound):
    code = "variant_not_found"
    title = "Variant not found"


class ProductImageNotFound(NotFound):
    code = "product_image_not_found"
    title = "Image not found"


class DuplicateSku(Conflict):
    code = "duplicate_sku"
    title = "This SKU is already used by another variant"


class SlugTaken(Conflict):
    code = "slug_taken"
    title = "This address is already used"


class CategoryNotEmpty(Conflict):
    code = "category_not_empty"
    title = "This category still holds products or subcategories"


class CategoryCycle(ValidationFailed):
    code = "category_cycle"
    title = "A category cannot be moved under itself or one of its subcategories"


class ProductHasNoVariants(ValidationFailed):
    code = "product_has_no_variants"
    title = "A product needs at least one variant before it can be shown to customers"


class InvalidPrice(ValidationFailed):
    code = "invalid_price"
    title = "The price is not valid"


class InvalidStock(ValidationFailed):
    code = "invalid_stock"
    title = "The stock quantity is not valid"


class InvalidSku(ValidationFailed):
    code = "invalid_sku"
    title = "The SKU is not valid"


class InvalidCatalogInput(ValidationFailed):
    code = "invalid_catalog_input"
    title = "Some fields are not valid"


class InvalidImage(ValidationFailed):
    code = "invalid_image"
    title = "The file is not a supported image"


class UploadTooLarge(ValidationFailed):
    """A request holding uploads larger in all than the shop takes (its MAX_CONTENT_LENGTH)."""

    code = "upload_too_large"
    status = 413
    title = "The upload is too large"


class InvalidListingParameters(ValidationFailed):
    """A listing's query string asks for something impossible (a bad price range)."""

    code = "invalid_listing_parameters"
    title = "The filters are not valid"


@dataclass(frozen=True)
class RowError:
    """One problem in an imported file: its row as a spreadsheet numbers it (the header is
    row 1), the column (blank: the whole row or file) and what is wrong."""

    row: int
    column: str
    message: str


class InvalidCatalogFile(ValidationFailed):
    """An imported catalogue file with errors: ``errors`` lists every one; nothing was written."""

    code = "invalid_catalog_file"
    title = "The file has errors: nothing was imported"

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error{'' if len(errors) == 1 else 's'} in the file.")
        self.errors = errors
