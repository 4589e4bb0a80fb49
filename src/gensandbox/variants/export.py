"""The portable file of a variant, and the lines of GENSANDBOX_HOME/variants.toml. Pure functions.

An export is one JSON object: the format name and version, the variant's name and version, its definition
(without the documents folder, which is machine-specific) and every document's content (UTF-8 text as it
is, anything else in base64). That is everything needed to rebuild the variant and its index on another
machine; importing it unchanged gives the same version.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import ValidationError

from gensandbox.config import VariantConfig
from gensandbox.errors import ConfigError
from gensandbox.variants.documents import DOCUMENT_SUFFIXES, Document

FORMAT_NAME = "gensandbox-variant"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Exported:
    name: str
    version: str  # as the exporting machine computed it
    definition: dict  # a VariantConfig without `name` and without `retrieval.folder`
    documents: list[Document]


def export_document(variant: VariantConfig, version: str, documents: list[Document]) -> dict:
    definition = variant.model_dump(mode="json", exclude={"name"}, exclude_none=True)
    if "retrieval" in definition:
        definition["retrieval"].pop("folder")
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "name": variant.name, "version": version,
            "definition": definition, "documents": [_document_entry(d) for d in documents]}


def _document_entry(document: Document) -> dict:
    """Text as it is, readable in the file; PDFs and text in another encoding in base64, kept byte for byte."""
    if not document.path.lower().endswith(".pdf"):
        try:
            return {"path": document.path, "encoding": "utf-8", "content": document.data.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"path": document.path, "encoding": "base64", "content": base64.b64encode(document.data).decode()}


def read_export(data: object, where: str) -> Exported:
    """An export checked for shape, safe paths and a valid definition; ConfigError (one line) otherwise."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ConfigError(f"{where}: not a GenSandbox variant export (no \"format\": \"{FORMAT_NAME}\")")
    if not isinstance(data.get("format_version"), int) or data["format_version"] > FORMAT_VERSION:
        raise ConfigError(f"{where}: export format version {data.get('format_version')!r} is newer than this "
                          f"GenSandbox reads ({FORMAT_VERSION}); upgrade GenSandbox")
    try:
        name, version, definition = str(data["name"]), str(data["version"]), dict(data["definition"])
        documents = [_document(entry) for entry in data.get("documents", [])]
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{where}: damaged variant export ({type(error).__name__}: {error})") from None
    check_definition(name, definition, "variants/check/docs", where)
    if "retrieval" in definition and not documents:
        raise ConfigError(f"{where}: the variant uses retrieval but the export holds no documents")
    return Exported(name, version, definition, documents)


def _document(entry: dict) -> Document:
    path = PurePosixPath(entry["path"])
    if path.is_absolute() or ".." in path.parts or path.suffix.lower() not in DOCUMENT_SUFFIXES:
        raise ValueError(f"document path {entry['path']!r} is not a relative .md/.txt/.pdf path")
    content = entry["content"]
    if entry["encoding"] == "base64":
        return Document(str(path), base64.b64decode(content, validate=True))
    if entry["encoding"] != "utf-8":
        raise ValueError(f"unknown document encoding {entry['encoding']!r}")
    return Document(str(path), content.encode("utf-8"))


def check_definition(name: str, definition: dict, folder: str, where: str) -> VariantConfig:
    """The definition as a VariantConfig whose documents are in `folder`."""
    record = {"name": name, **definition}
    if "retrieval" in record:
        record["retrieval"] = {**record["retrieval"], "folder": folder}
    try:
        return VariantConfig.model_validate(record)
    except ValidationError as error:
        from gensandbox.config.loading import describe_validation_error

        raise ConfigError(f"{where}: {describe_validation_error(error, VariantConfig)}") from None


# ---- variants.toml ----


def toml_value(value) -> str:
    """A TOML value on one line (inline tables and arrays). JSON's string escapes are valid TOML ones; only
    DEL, which TOML wants escaped and JSON leaves alone, needs help."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def variants_toml(variants: list[VariantConfig]) -> str:
    header = ("# Variants added by `gensandbox variant import` (folders are relative to this directory).\n"
              "# GenSandbox rewrites this file on import; a variant of the same name in gensandbox.toml wins.\n")
    blocks = []
    for variant in variants:
        record = variant.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        record = {"name": variant.name, "base": variant.base, **record}
        blocks.append("[[variants]]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in record.items()))
    return header + "\n" + "\n".join(blocks)
