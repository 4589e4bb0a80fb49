"""Model variants: the definition hash, request rewriting and post-processing (pure), documents and passages,
retrieval through an OpenAI-compatible embeddings endpoint and through the embedded model, and the export format."""

import json
import re
import shutil
import tomllib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gensandbox.calls.call import cache_key
from gensandbox.calls.models import build_provider, embedder_for, model_identity, resolve_model
from gensandbox.config import ModelConfig, RetrievalConfig, VariantConfig, VariantSpec, data_path, load_config
from gensandbox.errors import ConfigError, NotFoundError, ProviderResponseError, UserError
from gensandbox.providers import load_price_table
from gensandbox.types import ChatRequest, Message
from gensandbox.variants.definition import (
    Passage,
    context_prompt,
    extract_json,
    post_process,
    rewrite_request,
    strip_reasoning,
    variant_version,
)
from gensandbox.variants.documents import document_text, documents_digest, read_documents, split_passages
from gensandbox.variants.embeddings import lexical_vectors, vectors_from_openai
from gensandbox.variants.export import export_document, read_export, variants_toml
from gensandbox.variants.retrieval import Retriever, VectorIndex, nearest
from tests.variant_docs import PDF_TEXT, QUESTIONS, write_documents, write_variant_config

BASE = {"name": "v", "base": "echo", "system": "Be brief.", "few_shot": [{"input": "1+1", "output": "2"}],
        "parameters": {"temperature": 0.3, "max_tokens": 50, "stop": ["\n\n"]}, "post_process": ["strip"],
        "retrieval": {"folder": "docs", "embedding": "local", "top_k": 3, "chunk_chars": 600, "min_score": 0.1}}
CHANGES = [("base", "other"), ("system", "Be long."), ("few_shot", [{"input": "1+1", "output": "3"}]),
           ("few_shot", []), ("parameters", {"temperature": 0.4, "max_tokens": 50, "stop": ["\n\n"]}),
           ("parameters", {"temperature": 0.3, "max_tokens": 51, "stop": ["\n\n"]}),
           ("parameters", {"temperature": 0.3, "max_tokens": 50}), ("post_process", ["strip", "first-line"]),
           ("post_process", []), ("retrieval", None),
           ("retrieval", {**BASE["retrieval"], "embedding": "remote"}),
           ("retrieval", {**BASE["retrieval"], "top_k": 4}),
           ("retrieval", {**BASE["retrieval"], "chunk_chars": 601}),
           ("retrieval", {**BASE["retrieval"], "min_score": 0.2})]


def version(record: dict, digest: str | None = "d" * 64) -> str:
    variant = VariantConfig.model_validate(record)
    return variant_version(variant, digest if variant.retrieval else None)


# ---- the definition hash ----


def test_the_same_definition_has_the_same_version_however_it_is_written():
    reordered = dict(reversed(list(BASE.items())))
    assert version(BASE) == version(reordered) == version(json.loads(json.dumps(BASE)))
    assert re.fullmatch(r"[0-9a-f]{12}", version(BASE))
    explicit_defaults = {**BASE, "retrieval": {k: v for k, v in BASE["retrieval"].items() if k != "chunk_chars"}}
    assert version(explicit_defaults) == version(BASE)  # chunk_chars = 600 is the default
    assert version({**BASE, "parameters": {**BASE["parameters"], "max_tokens": 50.0}}) == version(BASE)


@pytest.mark.parametrize(("field", "value"), CHANGES)
def test_any_change_to_the_definition_makes_a_new_version(field, value):
    assert version({**BASE, field: value}) != version(BASE)


def test_the_documents_count_but_not_the_name_nor_where_the_folder_is():
    assert version(BASE, "e" * 64) != version(BASE)
    assert version({**BASE, "name": "renamed"}) == version(BASE)
    assert version({**BASE, "retrieval": {**BASE["retrieval"], "folder": "/elsewhere/docs"}}) == version(BASE)


texts = st.text(max_size=20)


@settings(max_examples=60, deadline=None)
@given(system=st.none() | texts, shots=st.lists(st.tuples(texts, texts), max_size=3),
       temperature=st.none() | st.floats(0, 2), steps=st.lists(st.sampled_from(["strip", "first-line",
                                                                                  "extract-json"]), max_size=3),
       other=texts)
def test_versions_are_a_function_of_the_definition(system, shots, temperature, steps, other):
    record = {"name": "h", "base": "echo", "system": system, "few_shot": [{"input": i, "output": o} for i, o in shots],
              "parameters": {"temperature": temperature}, "post_process": steps}
    assert version(record) == version(json.loads(json.dumps(record)))
    if other != system:
        assert version({**record, "system": other}) != version(record)


def test_a_folder_moved_elsewhere_keeps_its_digest_and_an_edit_changes_it(tmp_path):
    first = write_documents(tmp_path / "a")
    digest = documents_digest(read_documents(first))
    moved = tmp_path / "b" / "deeper"
    shutil.copytree(first, moved)
    assert documents_digest(read_documents(moved)) == digest
    (moved / "환불.md").write_text("환불은 30일 이내에 가능합니다.", encoding="utf-8")
    assert documents_digest(read_documents(moved)) != digest


# ---- documents and passages ----


def test_documents_are_markdown_text_and_pdf_and_hidden_files_are_skipped(tmp_path):
    documents = read_documents(write_documents(tmp_path / "docs"))
    assert [d.path for d in documents] == ["parking.pdf", "policies/warranty.md", "환불.md"]
    assert document_text(documents[0]).strip() == PDF_TEXT


def test_a_damaged_pdf_is_a_one_line_error(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    (document,) = read_documents(tmp_path)
    with pytest.raises(UserError, match="cannot read the PDF broken.pdf: "):
        document_text(document)


def test_missing_or_empty_folders_are_one_line_errors(tmp_path):
    with pytest.raises(NotFoundError, match="documents folder .*nowhere not found"):
        read_documents(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"no documents in .*empty: add \.md, \.txt or \.pdf files"):
        read_documents(tmp_path / "empty")


def test_passages_follow_headings_and_paragraphs_within_the_size():
    text = "# A\n\nfirst para.\n\nsecond para.\n# B\nunder b.\n\n" + "긴 문장입니다. " * 40
    passages = split_passages(text, 120)
    assert passages[0] == "# A\n\nfirst para.\n\nsecond para."
    assert passages[1].startswith("# B\nunder b.")
    assert all(len(p) <= 120 for p in passages)
    assert "".join(passages).count("긴 문장입니다.") == 40  # nothing lost when a long paragraph is cut
    assert split_passages("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


# ---- requests and answers (pure) ----


def test_a_request_gets_the_system_prompt_examples_passages_and_parameters():
    variant = VariantConfig.model_validate(BASE)
    request = ChatRequest(model="m", messages=(Message("system", "Suite rules."), Message("user", "환불 기간은?")),
                          max_tokens=10, temperature=0.0, stop=("x",))
    rewritten = rewrite_request(request, variant, [Passage("환불.md", "환불은 14일 이내에 가능합니다.")])
    roles = [m.role for m in rewritten.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert rewritten.messages[0].content == "Be brief.\n\nSuite rules."
    assert (rewritten.messages[1].content, rewritten.messages[2].content) == ("1+1", "2")
    last = rewritten.messages[-1].content
    assert last.startswith("아래 참고 자료를 바탕으로") and "[1] 환불.md\n환불은 14일 이내에 가능합니다." in last
    assert last.endswith("질문: 환불 기간은?")
    assert (rewritten.max_tokens, rewritten.temperature, rewritten.stop) == (50, 0.3, ("\n\n",))


def test_no_passages_and_no_overrides_leave_the_request_as_it_was():
    variant = VariantConfig(name="plain", base="echo")
    request = ChatRequest(model="m", messages=(Message("user", "hi"),), max_tokens=7, temperature=0.5)
    assert rewrite_request(request, variant, []) == request


def test_the_context_is_introduced_in_the_language_of_the_question():
    english = context_prompt("How long?", [Passage("a.md", "Seven years.")])
    assert english.startswith("Answer the question using the reference passages below.")
    assert english.endswith("Question: How long?")


def test_post_processors():
    assert strip_reasoning("<think>hmm\nlet me see</think>\n\nParis") == "Paris"
    assert strip_reasoning("Answer: <THINKING>x</THINKING>4") == "Answer: 4"
    assert strip_reasoning("<think>cut off before the end") == ""
    assert extract_json('Sure! ```json\n{"a": [1, 2], "b": "}"}\n``` done') == '{"a": [1, 2], "b": "}"}'
    assert extract_json("As [1] says: [{\"x\": 1}]") == '[{"x": 1}]'  # a citation mark is not the answer
    assert extract_json("no json here {oops") == "no json here {oops"
    assert post_process("  <think>a</think> first\nsecond  ", ["strip-reasoning", "first-line"]) == "first"
    assert post_process("  padded  ", ["strip"]) == "padded"


def test_a_bad_post_processor_name_is_a_config_error(tmp_path, upstream):
    path = write_variant_config(tmp_path, upstream.url, '[[variants]]\nname = "x"\nbase = "echo"\n'
                                'post_process = ["strip", "shout"]\n')
    with pytest.raises(ConfigError, match=r"`variants\[0\]\.post_process\[1\]`: Input should be 'strip-reasoning'"):
        load_config(path)


# ---- wire and index (pure) ----


def test_openai_embeddings_come_back_in_input_order_and_bad_answers_are_run_errors():
    body = {"data": [{"index": 1, "embedding": [0, 1]}, {"index": 0, "embedding": [1, 0]}]}
    assert vectors_from_openai(body, 2) == [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ProviderResponseError, match="not an OpenAI embeddings answer"):
        vectors_from_openai({"object": "list"}, 1)
    with pytest.raises(ProviderResponseError, match="1 vectors .* for 2 texts"):
        vectors_from_openai({"data": [{"index": 0, "embedding": [1]}]}, 2)


def test_nearest_ranks_by_cosine_and_honours_min_score():
    index = VectorIndex([Passage("a", "A"), Passage("b", "B"), Passage("c", "C")],
                        np.array([[1, 0], [0.6, 0.8], [0, 1]], dtype=np.float32))
    found = nearest(index, np.array([1.0, 0.0]), top_k=2)
    assert [p.source for p in found] == ["a", "b"] and found[1].score == pytest.approx(0.6)
    assert [p.source for p in nearest(index, np.array([1.0, 0.0]), top_k=3, min_score=0.5)] == ["a", "b"]


def test_lexical_vectors_see_shared_korean_words():
    question, right, wrong = lexical_vectors(["환불 기간은?", "환불은 14일 이내에 가능합니다.",
                                              "배송은 3일이 걸립니다."])
    assert question @ right > question @ wrong
    assert np.linalg.norm(question) == pytest.approx(1.0)


# ---- retrieval, end to end ----


def variant_provider(config, variant: str = "shop"):
    return build_provider(resolve_model(f"variant:{variant}", config), config)


async def test_retrieval_over_an_embeddings_endpoint_finds_the_right_passage(home, tmp_path, upstream, recorder):
    provider = variant_provider(load_config(write_variant_config(tmp_path, upstream.url)))
    for question, (source, phrase) in QUESTIONS.items():
        found = await provider.retriever.passages(question)
        assert found[0].source == source and phrase in found[0].text, question
    assert recorder.embedding_requests[0]["model"] == "bigrams" and len(recorder.embedding_requests[0]["input"]) == 5
    await provider.aclose()


async def test_the_index_is_kept_on_disk_and_rebuilt_only_when_documents_change(home, tmp_path, upstream, recorder):
    path = write_variant_config(tmp_path, upstream.url)
    first = variant_provider(load_config(path))
    await first.retriever.passages("환불은 며칠 안에 가능한가요?")
    (index_dir,) = (home / "indexes").iterdir()
    assert {p.name for p in index_dir.iterdir()} == {"vectors.npy", "chunks.json"}
    recorder.reset()
    again = variant_provider(load_config(path))
    await again.retriever.passages("환불은 며칠 안에 가능한가요?")
    assert [len(r["input"]) for r in recorder.embedding_requests] == [1]  # only the question: the index was loaded
    (tmp_path / "docs" / "new.txt").write_text("Gift cards never expire.", encoding="utf-8")
    changed = variant_provider(load_config(path))
    assert (await changed.retriever.passages("Do gift cards expire?"))[0].source == "new.txt"
    assert len(list((home / "indexes").iterdir())) == 2
    for provider in (first, again, changed):
        await provider.aclose()


async def test_the_variant_sends_the_retrieved_passage_to_the_base_model(home, tmp_path, upstream, recorder):
    config = load_config(write_variant_config(tmp_path, upstream.url))
    provider = build_provider(resolve_model("variant:shop", config), config)
    request = ChatRequest(model="echo", messages=(Message("user", "제주도 배송은 며칠 걸리나요?"),), max_tokens=500)
    answer = await provider.complete(request)
    sent = recorder.requests[-1]
    assert sent["model"] == "echo" and sent["max_tokens"] == 64 and sent["temperature"] == 0.2
    assert sent["messages"][0] == {"role": "system", "content": "You answer questions about the shop."}
    assert "제주도 배송은 보통 5일이 걸립니다." in sent["messages"][-1]["content"]
    assert answer.text == sent["messages"][-1]["content"].strip()  # echo, then the "strip" post-processor
    await provider.aclose()


async def test_a_buffered_stream_carries_the_post_processed_answer(home, tmp_path, upstream, recorder):
    variant = '[[variants]]\nname = "first"\nbase = "echo"\npost_process = ["first-line"]\n'
    config = load_config(write_variant_config(tmp_path, upstream.url, variant))
    provider = build_provider(resolve_model("variant:first", config), config)
    request = ChatRequest(model="echo", messages=(Message("user", "line one\nline two"),))
    pieces = [piece async for piece in provider.stream(request)]
    assert [p.text for p in pieces] == ["line one", ""]
    assert pieces[-1].finish_reason == "stop" and pieces[-1].usage.output_tokens == 3
    await provider.aclose()


def test_a_variant_is_its_base_plus_a_version_for_cache_price_and_manifest(home, tmp_path, upstream):
    config = load_config(write_variant_config(tmp_path, upstream.url))
    variant, base = resolve_model("variant:shop", config), resolve_model("echo", config)
    assert (variant.provider, variant.base_url, variant.provider_model_id) == ("openai", base.base_url, "echo")
    identity = model_identity(variant, config)
    assert identity == {**model_identity(base, config), "variant": variant.variant.version,
                        "embedding": {"provider": "openai", "endpoint": f"{upstream.url}/v1", "model": "bigrams"}}
    request = ChatRequest(model="echo", messages=(Message("user", "q"),))
    assert cache_key(identity, request) != cache_key(model_identity(base, config), request)
    assert ModelConfig.model_validate(variant.model_dump(exclude_none=True)) == variant  # the manifest round trip
    table = load_price_table(data_path("prices.toml"))
    listed = ModelConfig(name="example/remote-model", provider="openai")
    on_listed = VariantSpec(definition=VariantConfig(name="x", base=listed.name), version="v")
    as_variant = listed.model_copy(update={"name": "variant:x", "variant": on_listed})
    assert table.price_for(as_variant) == table.price_for(listed)


def test_changed_documents_refuse_a_provider_for_the_old_version(home, tmp_path, upstream):
    config = load_config(write_variant_config(tmp_path, upstream.url))
    model = resolve_model("variant:shop", config)
    (tmp_path / "docs" / "환불.md").write_text("환불은 30일 이내에 가능합니다.", encoding="utf-8")
    with pytest.raises(UserError, match=f"variant `shop` was version {model.variant.version} but its documents"):
        build_provider(model, config)


def test_re_basing_with_at_makes_a_new_version(home, tmp_path, upstream):
    config = load_config(write_variant_config(tmp_path, upstream.url))
    own, rebased = resolve_model("variant:shop", config), resolve_model("variant:shop@bigrams", config)
    assert rebased.name == "variant:shop@bigrams" and rebased.provider_model_id == "bigrams"
    assert rebased.variant.version != own.variant.version
    assert rebased.variant.definition.base == "bigrams"


@pytest.mark.slow
async def test_retrieval_with_the_embedded_model(home, tmp_path):
    write_documents(tmp_path / "docs")
    config = load_config()
    retriever = Retriever(tmp_path / "docs", RetrievalConfig(folder=str(tmp_path / "docs"), top_k=1),
                          embedder_for("local", config), home / "indexes")
    for question, (source, phrase) in QUESTIONS.items():
        found = await retriever.passages(question)
        assert found[0].source == source and phrase in found[0].text, question
    await retriever.aclose()


# ---- the export format ----


def test_export_documents_round_trip_byte_for_byte(tmp_path):
    documents = read_documents(write_documents(tmp_path / "docs"))
    variant = VariantConfig.model_validate({**BASE, "retrieval": {**BASE["retrieval"], "folder": str(tmp_path)}})
    exported = export_document(variant, "abc", documents)
    assert "folder" not in exported["definition"]["retrieval"] and exported["format"] == "gensandbox-variant"
    assert [d["encoding"] for d in exported["documents"]] == ["base64", "utf-8", "utf-8"]
    back = read_export(json.loads(json.dumps(exported, ensure_ascii=False)), "f.json")
    assert back.documents == documents and back.version == "abc"
    assert documents_digest(back.documents) == documents_digest(documents)


@pytest.mark.parametrize(("change", "message"), [
    ({"format": "other"}, "not a GenSandbox variant export"),
    ({"format_version": 99}, "newer than this GenSandbox reads"),
    ({"documents": [{"path": "../escape.md", "encoding": "utf-8", "content": "x"}]}, "not a relative"),
    ({"definition": {"base": "echo", "post_process": ["shout"]}}, "post_process"),
])
def test_a_bad_export_is_a_one_line_config_error(change, message):
    exported = {**export_document(VariantConfig(name="x", base="echo"), "abc", []), **change}
    with pytest.raises(ConfigError, match=message):
        read_export(exported, "f.json")


def test_variants_toml_reads_back_as_the_same_variants():
    tricky = VariantConfig.model_validate({**BASE, "system": 'Quote "this"\n\tand \\ that\x7f 한국어'})
    text = variants_toml([tricky, VariantConfig(name="plain", base="echo")])
    parsed = tomllib.loads(text)["variants"]
    assert [VariantConfig.model_validate(v) for v in parsed] == [tricky, VariantConfig(name="plain", base="echo")]
