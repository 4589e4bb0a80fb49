"""GenSandbox never downloads an image a request names by URL: the API adapters hand the URL on to the upstream
unchanged (the upstream fetches it, which config/untrusted.check_request_urls guards), and the in-process llama.cpp
models take no images at all, so a request with one is refused before any call."""

from gensandbox.providers.anthropic_tools import part_to_anthropic
from gensandbox.providers.capabilities import IMAGES, needs, unsupported
from gensandbox.providers.local import CHAT, CHAT_WITH_TOOLS, SAMPLING
from gensandbox.providers.openai_compat import message_to_openai
from gensandbox.types import ChatRequest, ContentPart, Message

URL = "http://10.0.0.1/internal.png"
MESSAGE = Message("user", "what is this?", parts=(ContentPart("text", "what is this?"), ContentPart("image", url=URL)))


def test_the_api_adapters_pass_an_image_url_on_without_fetching_it():
    assert message_to_openai(MESSAGE)["content"][1] == {"type": "image_url", "image_url": {"url": URL}}
    assert part_to_anthropic(MESSAGE.parts[1]) == {"type": "image", "source": {"type": "url", "url": URL}}


def test_the_in_process_models_refuse_images_before_any_call():
    request = ChatRequest(model="local/qwen2.5-coder-0.5b-instruct", messages=(MESSAGE,))
    for capabilities in (SAMPLING, CHAT, CHAT_WITH_TOOLS):
        assert IMAGES not in capabilities
        assert unsupported(needs(request), capabilities) == (IMAGES, "messages[0].content")
