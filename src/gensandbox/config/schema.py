"""The shape of gensandbox.toml, as pydantic models. Unknown keys are errors, so typos surface."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gensandbox.db.urls import POSTGRES_SCHEMES, SQLITE_SCHEME

ProviderName = Literal["local", "openai", "anthropic"]
ApiFeature = Literal["stream", "tools", "json_mode", "seed"]


# Model names with a meaning of their own: a customised model, a gateway route, a GGUF file by path.
VARIANT_PREFIX, ROUTE_PREFIX, LOCAL_FILE_PREFIX = "variant:", "route:", "local:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightsPackage(_Strict):
    """Where a built-in model's GGUF comes from: raw slices or an assembler, all on PyPI."""

    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int | None = None
    slices: list[str] = []  # "python_package:relative/path" in order
    assembler: str | None = None  # module exposing assemble(path)
    install_hint: str = "pip install 'gensandbox[local]'"


class ModelConfig(_Strict):
    name: str = Field(min_length=1)
    provider: ProviderName
    model: str | None = None  # the provider's own model id; defaults to `name`
    path: str | None = None  # local GGUF file
    weights_package: WeightsPackage | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    price_per_million_input_tokens: float | None = Field(default=None, ge=0)
    price_per_million_output_tokens: float | None = Field(default=None, ge=0)
    compute_usd_per_hour: float | None = Field(default=None, ge=0)
    origin: Literal["domestic", "foreign"] | None = None
    weights: Literal["open", "closed"] | None = None
    vendor: str | None = None
    license: str | None = None
    prompt_style: Literal["chat", "completion"] = "chat"
    few_shot: list[tuple[str, str]] = []  # (question, answer) pairs for completion-style prompts
    concurrency: int | None = Field(default=None, ge=1, le=1024)
    rpm: int | None = Field(default=None, ge=1)  # requests per minute allowed on this endpoint
    timeout_s: float = Field(default=120.0, gt=0)
    n_ctx: int = Field(default=4096, ge=256)
    # The most tokens the model writes in one answer, as its maker documents it: sent as max_tokens to an API that
    # requires one (Anthropic's) when the app sends none, and what a key's budget holds as a request's worst case.
    max_output_tokens: int | None = Field(default=None, ge=1)
    # What the endpoint offers, for switching audits; undeclared means "unknown", never "no".
    context_window: int | None = Field(default=None, ge=1)
    features: list[ApiFeature] | None = None
    variant: VariantSpec | None = None  # set only on `variant:NAME` models, by the registry
    sweep: str | None = None  # a reasoning setting (providers/regimes.py), set only on MODEL@reasoning=SETTING

    @model_validator(mode="after")
    def _provider_needs(self) -> ModelConfig:
        if self.provider == "local" and not (self.path or self.weights_package):
            raise ValueError("a local model needs `path` (a .gguf file)")
        return self

    @property
    def provider_model_id(self) -> str:
        return self.model or self.name

    def offered_features(self) -> set[str] | None:
        """Declared features; the in-process models' are known (streaming and seeds, no tools or JSON mode)."""
        if self.features is not None:
            return set(self.features)
        return {"stream", "seed"} if self.provider == "local" else None

    def context_tokens(self) -> int | None:
        return self.context_window or (self.n_ctx if self.provider == "local" else None)


class FewShot(_Strict):
    input: str
    output: str


class SuiteConfig(_Strict):
    name: str = Field(min_length=1)
    path: str
    layout: str | None = None  # a public benchmark's file layout: kmmlu, kobest, haerae, click, qa-jsonl
    license: str | None = None
    system: str | None = None  # system prompt added to every item
    template: str | None = None  # Jinja2 template for the user message, e.g. "{{ input }}\n\n{{ options }}"
    few_shot: list[FewShot] = []
    defaults: dict = {}  # fields every row gets unless it sets them (language, category, scorer, …)


class RouteConfig(_Strict):
    """A model name apps can use (`route:NAME`) whose answer comes from one of several models."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    policy: Literal["fixed", "fallback", "weighted", "cheapest", "fastest"]
    models: list[str] = Field(min_length=1)
    weights: list[float] = []  # weighted: one per model
    suite: str | None = None  # cheapest: the suite whose latest results decide
    min_score: float | None = Field(default=None, ge=0, le=1)  # cheapest: the quality bar

    @model_validator(mode="after")
    def _policy_needs(self) -> RouteConfig:
        if self.policy == "weighted" and self.weights and len(self.weights) != len(self.models):
            raise ValueError("a weighted route needs one weight per model")
        if self.policy == "cheapest" and (self.suite is None or self.min_score is None):
            raise ValueError("a cheapest route needs `suite` and `min_score` (e.g. suite = \"basics-ko\", "
                             "min_score = 0.6)")
        return self


PostProcessor = Literal["strip-reasoning", "extract-json", "first-line", "strip"]


class RetrievalConfig(_Strict):
    """Passages from a folder of the user's documents (Markdown, text, PDF), added to each question."""

    folder: str  # relative to the file that defines the variant
    embedding: str = "local"  # "local" (the embedded Qwen GGUF) or a provider="openai" model serving /v1/embeddings
    top_k: int = Field(default=3, ge=1, le=50)
    chunk_chars: int = Field(default=600, ge=100, le=20000)
    min_score: float | None = Field(default=None, ge=-1, le=1)  # cosine similarity a passage must reach


class VariantParameters(_Strict):
    """Generation settings the variant imposes, whatever the caller asked for."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    stop: list[str] | None = None


class VariantConfig(_Strict):
    """A customised model (`variant:NAME`): a base model or route plus prompt, examples, parameters,
    post-processing and optionally retrieval over the user's documents."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    base: str = Field(min_length=1)  # a model name, or route:NAME (served by the gateway only)
    system: str | None = None
    few_shot: list[FewShot] = []
    parameters: VariantParameters = VariantParameters()
    post_process: list[PostProcessor] = []  # applied in order to every answer
    retrieval: RetrievalConfig | None = None


class VariantSpec(_Strict):
    """What a `variant:NAME` model adds to its base: the definition (its folder made absolute) and its version."""

    definition: VariantConfig
    version: str


ModelConfig.model_rebuild()


class ServeConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    models: list[str] | None = None  # which models the gateway offers; default: every configured model
    request_timeout_s: float = Field(default=120.0, gt=0)
    cooldown_s: float = Field(default=30.0, ge=0)  # how long a failing model is skipped
    failures_to_cool: int = Field(default=3, ge=1)
    concurrent_runs: int = Field(default=2, ge=1, le=64)  # evaluations a server runs at once; later ones wait


class RunConfig(_Strict):
    models: list[str] = ["local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m"]
    suites: list[str] = ["basics-en", "basics-ko"]
    max_tokens: int = Field(default=96, ge=1, le=32768)
    temperature: float = Field(default=0.0, ge=0, le=2)
    epochs: int = Field(default=1, ge=1, le=1000)
    seed: int = 0
    retries: int = Field(default=3, ge=0, le=20)
    max_cost_usd: float | None = Field(default=None, ge=0)
    judge: str | None = None  # model used by judge-scored items unless an item names its own
    cache: bool = True  # answer identical requests from the response cache
    bootstrap_resamples: int = Field(default=2000, ge=100, le=100000)


class LedgerConfig(_Strict):
    # None: a SQLite file in GENSANDBOX_HOME; "postgresql://user@host/db" for several gateway processes on one chain.
    url: str | None = None
    privacy: Literal["hashes", "full"] = "hashes"  # "full" also keeps the prompts and answers themselves
    checkpoint_every: int = Field(default=1000, ge=1)  # sign the chain head every N events ...
    checkpoint_interval_s: float = Field(default=10.0, gt=0)  # ... or every T seconds, and at shutdown

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        return _database_address(value)


class StoreConfig(_Strict):
    # None: a SQLite file in GENSANDBOX_HOME; "postgresql://user@host/db" for several gateway processes on one store.
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        return _database_address(value)


def _database_address(value: str | None) -> str | None:
    if value is not None and not value.startswith((*POSTGRES_SCHEMES, SQLITE_SCHEME)):
        raise ValueError("use postgresql://USER@HOST:PORT/DB or sqlite:///PATH")
    return value


class FileConfig(_Strict):
    """The root of gensandbox.toml."""

    run: RunConfig = RunConfig()
    serve: ServeConfig = ServeConfig()
    models: list[ModelConfig] = []
    suites: list[SuiteConfig] = []
    routes: list[RouteConfig] = []
    variants: list[VariantConfig] = []
    ledger: LedgerConfig = LedgerConfig()
    store: StoreConfig = StoreConfig()
    price_file: str | None = None
