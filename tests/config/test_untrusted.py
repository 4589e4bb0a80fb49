"""What a caller who is not an admin may name: no `local:PATH` model, no internal image URL, no variant that
reads a server folder or carries an endpoint."""

import pytest

from gensandbox.config import load_config
from gensandbox.config.untrusted import check_model_name, check_request_urls, check_variant_spec
from gensandbox.errors import ConfigError, UserError
from gensandbox.types import ChatRequest, ContentPart, Message

BUILT_IN = "local/qwen2.5-coder-0.5b-instruct"


@pytest.fixture
def config(home):
    return load_config()


def _with_image(url: str) -> ChatRequest:
    parts = (ContentPart("text", "what is this?"), ContentPart("image", url=url))
    return ChatRequest(model="m", messages=(Message("system", "be brief"), Message("user", "what is this?", parts)))


@pytest.mark.parametrize("name", ["local:/etc/passwd", "variant:helper@local:/srv/model.gguf",
                                  "local:/srv/model.gguf@reasoning=high"])
def test_a_model_file_on_the_server_is_for_admins_only(config, name):
    with pytest.raises(UserError, match=f"judge `{name}`: a `local:PATH` model reads a file on the server"):
        check_model_name(name, config, trusted=False, where="judge")
    check_model_name(name, config, trusted=True)


def test_configured_models_and_their_settings_are_for_everyone(config):
    check_model_name(BUILT_IN, config, trusted=False)
    check_model_name("variant:helper", config, trusted=False)  # whether it exists is the resolver's to say


def test_image_urls_from_untrusted_callers_are_inline_or_public():
    check_request_urls(_with_image("data:image/png;base64,iVBORw0KGgo="), trusted=False)
    check_request_urls(_with_image("https://8.8.8.8/cat.png"), trusted=False)
    for url, message in [("http://169.254.169.254/latest/meta-data/", "link-local"),
                         ("http://127.0.0.1:5432/", "internal address"), ("file:///etc/passwd", "only http")]:
        with pytest.raises(UserError, match=rf"^messages\[1\]\.content\[1\]: endpoint .*{message}"):
            check_request_urls(_with_image(url), trusted=False)
        check_request_urls(_with_image(url), trusted=True)  # an admin's own request goes as sent


def test_a_variant_cannot_carry_an_endpoint(config):
    with pytest.raises(ConfigError, match="variant `v`: unknown key `base_url`; allowed here: name, base, system"):
        check_variant_spec({"name": "v", "base": BUILT_IN, "base_url": "http://10.0.0.1/v1"}, config, trusted=True)


def test_an_untrusted_variant_names_known_models_only(config):
    with pytest.raises(UserError, match="variant `v`: base `local:/srv/x.gguf`: a `local:PATH` model"):
        check_variant_spec({"name": "v", "base": "local:/srv/x.gguf"}, config, trusted=False)
    spec = {"name": "v", "base": BUILT_IN, "retrieval": {"folder": "docs", "embedding": "local:/srv/e.gguf"}}
    with pytest.raises(UserError, match="variant `v`: retrieval.embedding `local:/srv/e.gguf`"):
        check_variant_spec(spec, config, trusted=False)
    assert check_variant_spec({"name": "v", "base": BUILT_IN, "system": "be brief"}, config, trusted=False).base \
        == BUILT_IN


def test_an_untrusted_variant_retrieves_only_from_its_documents_folder(config, tmp_path):
    root = tmp_path / "project-docs"
    (root / "manuals").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "escape").symlink_to(tmp_path / "secret", target_is_directory=True)

    def spec(folder: str) -> dict:
        return {"name": "v", "base": BUILT_IN, "retrieval": {"folder": folder}}

    with pytest.raises(UserError, match="retrieval.folder names a folder on the server, which only an admin may"):
        check_variant_spec(spec("manuals"), config, trusted=False)
    for outside in ("../secret", str(tmp_path / "secret"), "escape", "/etc"):
        with pytest.raises(UserError, match=f"retrieval.folder `{outside}` is outside your documents folder"):
            check_variant_spec(spec(outside), config, trusted=False, documents_root=root)
    checked = check_variant_spec(spec("manuals"), config, trusted=False, documents_root=root)
    assert checked.retrieval.folder == str((root / "manuals").resolve())
    assert check_variant_spec(spec("/etc"), config, trusted=True).retrieval.folder == "/etc"
