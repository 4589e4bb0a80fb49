"""What a caller who is not an admin may name: the checks for requests, variants and model names that could
otherwise make the server read its own disk or call an address of the caller's choosing.

Where GenSandbox connects is set by admins only (gensandbox.toml, registered models: store/models.py). What
others send can still carry a location: an image part's URL (passed to the upstream, which may fetch it from
inside our network), a variant's retrieval folder or embedding model, a `local:PATH` model name (a file on the
server's disk). Each function here is a no-op for a trusted caller and refuses (UserError, naming the parameter)
what an untrusted one may not send. The caller's trust level is the edge's to decide (the admin role).
"""

from __future__ import annotations

from pathlib import Path

from gensandbox.config.endpoints import check_url_in_request
from gensandbox.config.loading import Config, validate
from gensandbox.config.schema import LOCAL_FILE_PREFIX, VariantConfig
from gensandbox.errors import UserError
from gensandbox.types import ChatRequest


def check_model_name(name: str, config: Config, *, trusted: bool, where: str = "model") -> None:
    """A model name an untrusted caller may use: any configured or registered model (with its variants, routes
    and reasoning settings), but never `local:PATH`, which loads a file from the server's disk."""
    if trusted or name in config.models:
        return
    if LOCAL_FILE_PREFIX in name:
        raise UserError(f"{where} `{name}`: a `{LOCAL_FILE_PREFIX}PATH` model reads a file on the server, which only "
                        "an admin may name; use a registered model")


def check_request_urls(request: ChatRequest, *, trusted: bool) -> None:
    """Every image URL in the request is inline (`data:`) or public. Resolves host names: call it off the event
    loop (asyncio.to_thread) when a request has http(s) image URLs."""
    if trusted:
        return
    for message_index, message in enumerate(request.messages):
        for part_index, part in enumerate(message.parts):
            if part.type == "image":
                check_url_in_request(part.url, f"messages[{message_index}].content[{part_index}]")


def check_variant_spec(spec: VariantConfig | dict, config: Config, *, trusted: bool,
                       documents_root: Path | None = None) -> VariantConfig:
    """A variant definition (a [[variants]] entry) validated as gensandbox.toml would (no `base_url` or other
    endpoint can be given: unknown keys are refused), and, for an untrusted caller: its base and embedding model
    are models the server knows (not `local:PATH`), and its retrieval folder lies inside `documents_root` (the
    caller's own documents; without one, retrieval is refused). The definition, its folder made absolute."""
    variant = spec if isinstance(spec, VariantConfig) else validate(VariantConfig, spec, _variant_where(spec))
    if trusted:
        return variant
    check_model_name(variant.base, config, trusted=False, where=f"variant `{variant.name}`: base")
    if variant.retrieval is None:
        return variant
    retrieval = variant.retrieval
    if retrieval.embedding != "local":
        check_model_name(retrieval.embedding, config, trusted=False,
                         where=f"variant `{variant.name}`: retrieval.embedding")
    folder = _folder_inside(retrieval.folder, documents_root, variant.name)
    return variant.model_copy(update={"retrieval": retrieval.model_copy(update={"folder": str(folder)})})


def _folder_inside(folder: str, documents_root: Path | None, variant: str) -> Path:
    """The folder, resolved (symbolic links and `..` followed), if it is inside the documents root."""
    if documents_root is None:
        raise UserError(f"variant `{variant}`: retrieval.folder names a folder on the server, which only an admin "
                        "may do; upload the documents to your project and use that folder")
    root = documents_root.resolve()
    path = (root / Path(folder).expanduser()).resolve()
    if not path.is_relative_to(root):
        raise UserError(f"variant `{variant}`: retrieval.folder `{folder}` is outside your documents folder; name a "
                        "folder inside it (relative to it)")
    return path


def _variant_where(spec: dict) -> str:
    name = spec.get("name") if isinstance(spec, dict) else None
    return f"variant `{name}`" if isinstance(name, str) else "variant"
