"""The EDM models of the two API versions, read once from the packaged CSDL documents."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from callscope.domain.documents import DocumentTypes
from callscope.domain.edm import EdmModel, parse_csdl

VERSIONS = ("v1.0", "beta")


@dataclass(frozen=True)
class Schemas:
    """Per-version models, CSDL text, and the decoders documents are validated with."""

    models: dict[str, EdmModel]
    csdl: dict[str, bytes]
    documents: DocumentTypes  # beta's types: a superset of v1.0's, so every import fits


@cache
def load_schemas() -> Schemas:
    """Parse the packaged CSDL of every version (once per process)."""
    package = resources.files("callscope.schemas")
    csdl = {v: package.joinpath(f"{v}.csdl.xml").read_bytes() for v in VERSIONS}
    models = {v: parse_csdl(text) for v, text in csdl.items()}
    return Schemas(models=models, csdl=csdl, documents=DocumentTypes(models["beta"]))
