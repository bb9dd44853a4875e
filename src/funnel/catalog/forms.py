"""HTML forms of the staff catalogue pages (Flask-WTF: every form carries a CSRF token).

The forms only read what was typed; the rules (required names, lengths, SKU alphabet, prices,
option values, a product needs a variant to be active) are the catalogue services', whose
errors the pages put beside the fields, so each rule is written once for the pages and the API.
The choices of the select fields (categories) are set by the page from the category tree.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from funnel.catalog.models import ProductStatus

MAX_OPTION_ROWS = 10
BLANK_OPTION_ROWS = 2
STATUS_CHOICES = [
    SelectChoice(ProductStatus.DRAFT.value, "Draft (hidden from customers)"),
    SelectChoice(ProductStatus.ACTIVE.value, "Active (on sale)"),
    SelectChoice(ProductStatus.ARCHIVED.value, "Archived (no longer sold)"),
]


class CategoryForm(FlaskForm):
    name = StringField("Name")
    parent_id = SelectField("Parent category", choices=[])
    description = TextAreaField("Description", description="Shown at the top of its page.")


class ProductForm(FlaskForm):
    title = StringField("Title")
    category_id = SelectField(
        "Category", choices=[], validators=[InputRequired("Choose a category.")]
    )
    status = SelectField(
        "Status",
        choices=STATUS_CHOICES,
        default=ProductStatus.DRAFT.value,
        description="A product needs a variant before it can be active.",
    )
    description = TextAreaField("Description")
    seo_title = StringField(
        "SEO title", description="The page title in search results; blank: the title."
    )
    seo_description = TextAreaField(
        "SEO description", description="The summary search engines show, up to 320 characters."
    )
    is_featured = BooleanField("Featured on the home page")


class OptionForm(Form):
    """One option of a variant, such as Size: M (a row of the variant form)."""

    name = StringField("Option name")
    value = StringField("Option value")


class VariantForm(FlaskForm):
    sku = StringField(
        "SKU", description="Letters, digits, dots, dashes or underscores; unique in the shop."
    )
    title = StringField("Title", description="Optional, e.g. “Large, red”.")
    price = StringField("Price", render_kw={"inputmode": "decimal"})
    options = FieldList(
        FormField(OptionForm),
        min_entries=BLANK_OPTION_ROWS,
        max_entries=MAX_OPTION_ROWS,
    )

    def option_pairs(self) -> list[tuple[str, str]]:
        """The rows that have a name or a value, as typed (blank rows are left out)."""
        return [
            (row.form.data["name"] or "", row.form.data["value"] or "")
            for row in self.options
            if (row.form.data["name"] or "").strip() or (row.form.data["value"] or "").strip()
        ]


class BulkEditForm(FlaskForm):
    """The product list's bulk edit: the chosen rows' ids come as ``product_ids``, the action
    as the value of the button pressed."""

    # Any value passes: the bulk edit's service says when the category is missing or unknown.
    category_id = SelectField("Move to category", choices=[], validate_choice=False)


class CatalogueImportForm(FlaskForm):
    """The catalogue CSV to import (checked and previewed before anything is written)."""

    file = FileField(
        "CSV file",
        render_kw={"accept": ".csv,text/csv", "required": True},
        description="UTF-8 CSV with the columns of the export (see the staff manual).",
    )


class ConfirmImportForm(FlaskForm):
    """Confirms the previewed import: the file itself stays on the server."""
