"""The variants a home knows: look one up, take its version as it is now, write it to a portable file, and
install one from such a file (its documents under GENSANDBOX_HOME/variants/NAME/docs, its definition in
GENSANDBOX_HOME/variants.toml)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from gensandbox.config import ROUTE_PREFIX, VARIANT_PREFIX, Config, VariantConfig
from gensandbox.config.loading import imported_variants
from gensandbox.errors import NotFoundError, UserError
from gensandbox.variants.definition import folder_digest, variant_version
from gensandbox.variants.documents import Document, documents_digest, read_documents
from gensandbox.variants.export import check_definition, export_document, read_export, variants_toml

__all__ = ["Installed", "export_variant", "import_variant", "variant_named", "version_of"]


def variant_named(config: Config, name: str) -> VariantConfig:
    name = name.removeprefix(VARIANT_PREFIX)
    if name not in config.variants:
        known = ", ".join(sorted(config.variants)) or "none yet"
        raise NotFoundError(f"unknown variant `{name}`; known variants: {known}")
    return config.variants[name]


def version_of(variant: VariantConfig) -> str:
    return variant_version(variant, folder_digest(variant))


def export_variant(config: Config, name: str, output: Path) -> tuple[VariantConfig, str, list[Document]]:
    """Write the variant and its documents to `output`; returns (the variant, its version, the documents)."""
    variant = variant_named(config, name)
    documents = read_documents(Path(variant.retrieval.folder)) if variant.retrieval else []
    version = variant_version(variant, documents_digest(documents) if variant.retrieval else None)
    output.write_text(json.dumps(export_document(variant, version, documents), ensure_ascii=False, indent=1),
                      encoding="utf-8")
    return variant, version, documents


@dataclass(frozen=True)
class Installed:
    variant: VariantConfig
    version: str  # as this GenSandbox computes it
    exported_version: str  # as the exporting machine computed it
    rebased_from: str | None  # the exported base, when `base` replaced it


def import_variant(config: Config, file: Path, base: str | None = None, force: bool = False) -> Installed:
    """Install the variant exported to `file`, re-based on `base` if given; `force` replaces an earlier import."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise NotFoundError(f"cannot read {file}: {error.strerror}") from None
    except ValueError as error:
        raise UserError(f"{file}: not JSON ({error})") from None
    exported = read_export(data, str(file))
    definition = {**exported.definition, "base": base or exported.definition["base"]}
    _check_can_import(config, exported.name, definition["base"], force)
    folder = f"variants/{exported.name}/docs"
    variant = check_definition(exported.name, definition, folder, str(file))
    _write_documents(config.home / folder, exported.documents)
    others = [v for v in imported_variants(config.home) if v.name != variant.name]
    config.variants_path.write_text(variants_toml([*others, variant]), encoding="utf-8")
    version = variant_version(variant, documents_digest(exported.documents) if variant.retrieval else None)
    rebased = exported.definition["base"] if base and base != exported.definition["base"] else None
    return Installed(variant, version, exported.version, rebased)


def _check_can_import(config: Config, name: str, base: str, force: bool) -> None:
    imported = {v.name for v in imported_variants(config.home)}
    if name in config.variants and name not in imported:
        raise UserError(f"variant `{name}` is defined in gensandbox.toml, which would hide the import; "
                        "rename or remove it there first")
    if name in imported and not force:
        raise UserError(f"variant `{name}` was imported before; pass --force to replace it")
    if not base.startswith(ROUTE_PREFIX) and base not in config.models:
        raise NotFoundError(f"the variant's base `{base}` is not a model here; pass --base MODEL to re-base it "
                            "(see `gensandbox models`)")


def _write_documents(folder: Path, documents: list[Document]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    for document in documents:
        path = folder / document.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(document.data)
