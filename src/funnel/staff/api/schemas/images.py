"""Product images: what staff send and what they get back.

The rules (a JPEG, PNG or WebP image by its content, at most 10 MB; alt text required, at
most 300 characters; up or down) are the catalogue image service's, as for the staff pages.
"""

from __future__ import annotations

import marshmallow as ma

from funnel.catalog.models import THUMBNAIL_SIZES
from funnel.core.api import PatchSchema
from funnel.staff.api.schemas.fields import Text


class StaffImageUploadSchema(ma.Schema):
    """The ``multipart/form-data`` body of an upload (documentation; the operation reads it)."""

    files = ma.fields.List(
        ma.fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True,
        metadata={"description": "One or more JPEG, PNG or WebP files, at most 10 MB each"},
    )
    alt_text = ma.fields.String(
        required=True,
        metadata={"description": "What the images show (1 to 300 characters)"},
    )


class StaffImageFormSchema(ma.Schema):
    """The text part of an upload, read from the form."""

    class Meta:
        unknown = ma.EXCLUDE

    alt_text = Text(load_default="")


class StaffAltTextPatchSchema(PatchSchema):
    alt_text = Text(required=True, metadata={"description": "1 to 300 characters"})


class StaffImageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True, metadata={"description": "The image, re-encoded"})
    thumbnails = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={
            "description": "Thumbnail URLs by their size in pixels: "
            + ", ".join(f'"{size}"' for size in THUMBNAIL_SIZES)
        },
    )
    alt_text = ma.fields.String(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "0 is shown first"})
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)


class StaffImageListSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(StaffImageSchema),
        required=True,
        metadata={"description": "In display order"},
    )
