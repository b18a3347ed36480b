"""The one typed configuration: config.yaml, overridden by WUYE_* environment variables.

Environment variables are read here and nowhere else. Every section is a frozen
dataclass; `WUYE_<SECTION>_<KEY>` overrides `section.key` (for example
`WUYE_WECHAT_API_BASE` → `wechat.api_base`). A value that does not fit its type
stops start-up with a ConfigError naming the key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = ROOT / "config.yaml"


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    secret_key: str = "dev-only-change-me"
    max_body_bytes: int = 65536
    # Production server (gunicorn, gthread workers): processes, threads per process,
    # seconds a client may stall while sending a request, seconds in-flight turns get
    # when stopping.
    workers: int = 1
    threads: int = 8
    read_timeout_seconds: float = 10.0
    graceful_timeout_seconds: int = 30
    # One line per request, path only (never the query: WeChat's signature is in it).
    access_log: bool = True
    # Run the outbox sender (and other scheduled jobs) inside the web process; false
    # when `wuye worker` runs beside the web server.
    run_background_jobs: bool = True
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-For/Proto are trusted.
    trusted_proxies: int = 0
    # /metrics: open to loopback; elsewhere only with `Authorization: Bearer <token>`.
    metrics_token: str = ""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""


@dataclass(frozen=True)
class RedisConfig:
    url: str = "memory://"
    # Every command gives up after this long, so a hung Redis cannot eat WeChat's 5 s.
    socket_timeout_seconds: float = 1.0


@dataclass(frozen=True)
class WechatConfig:
    token: str = "wuye-demo-token"
    appid: str = "wx0000000000demo"
    secret: str = "demo-secret"
    aes_key: str = ""
    api_base: str = "https://api.weixin.qq.com"
    timestamp_tolerance_seconds: int = 300
    # The whole push, storage and Redis included, must be answered within this (WeChat: 5 s).
    reply_budget_seconds: float = 4.5
    dedupe_ttl_seconds: int = 600
    http_timeout_seconds: float = 5.0
    # A push being processed is leased this long; the sweeper takes over after it runs out.
    processing_lease_seconds: float = 60.0
    # Refuse plain (unencrypted) pushes: safe mode only (needs aes_key).
    require_encryption: bool = False
    # Pushes per openid per minute that reach the dialogue; more are stored and get a notice.
    rate_limit_per_minute: int = 60


@dataclass(frozen=True)
class OutboxConfig:
    poll_seconds: float = 1.0
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    max_attempts: int = 8
    batch_size: int = 20
    # How long a claimed send may take before it counts as interrupted (0: from the timeout).
    lease_seconds: float = 0.0
    # How often the worker looks for pushes left unprocessed past their lease.
    sweep_seconds: float = 5.0


@dataclass(frozen=True)
class ConversationConfig:
    state_ttl_seconds: int = 86400


@dataclass(frozen=True)
class NluConfig:
    model_dir: str = "var/models"
    # On the calibrated confidence (P(decision right), see `wuye nlu eval`'s risk-coverage
    # table): below it a decision is unsure and the bot clarifies or hands over.
    confidence_threshold: float = 0.50
    # On the intent classifier's own probability, inside the NLU engine.
    classifier_threshold: float = 0.45
    margin_threshold: float = 0.10
    faq_answer_threshold: float = 0.20
    faq_suggest_threshold: float = 0.10
    reload_check_seconds: float = 5.0
    # An emergency probability at or above this overrides the top intent (recall first).
    emergency_floor: float = 0.50
    # An FAQ score at or above this turns an unsure intent into faq.
    faq_override_score: float = 0.40
    # Weight of the trained FAQ classifier against live retrieval in the FAQ score.
    faq_classifier_weight: float = 0.8
    # How often another process's FAQ edits are looked for (own edits are seen at once).
    kb_check_seconds: float = 1.0
    # Optional second opinion for unsure decisions: an OpenAI-compatible endpoint (base URL
    # ending before /chat/completions). Empty: off. The key comes from the environment
    # (WUYE_NLU_LLM_API_KEY), never from config.yaml.
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_seconds: float = 1.5


@dataclass(frozen=True)
class ServiceConfig:
    """Company-wide service facts, and the defaults the first community is seeded with.

    Each community (the `communities` table) carries its own name, phones and hours;
    these values only fill the first one on a fresh install (or a migration).
    """

    community_code: str = "cuihu"
    property_name: str = "翠湖花园"
    address: str = ""
    hotline: str = "0571-88886666"
    emergency_phone: str = "0571-88886110"
    timezone: str = "Asia/Shanghai"
    weekday_hours: str = "09:00-18:00"
    weekend_hours: str = "09:00-17:30"


@dataclass(frozen=True)
class HandoffConfig:
    """When and how conversations move to a person (issue 5)."""

    # ISO time (e.g. 2026-11-21T22:00:00+08:00) that freezes the service clock; tests/demos only.
    clock: str = ""
    # Public holidays, comma-separated YYYY-MM-DD: weekend hours apply.
    holidays: str = ""
    customer_service_window_hours: int = 48
    anger_exclamations: int = 3
    rating_ttl_hours: int = 24
    # An agent who owns a conversation and has not answered for this long: the resident
    # is told we are on it, the agent is reminded (once per period).
    agent_silence_seconds: int = 180
    # Minutes one agent needs per waiting resident, for the expected wait we tell.
    minutes_per_resident: int = 5


@dataclass(frozen=True)
class ConsoleConfig:
    """The agent console: sign-in throttling, session length, live stream."""

    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    session_hours: int = 12
    # A session unused this long is over (server-side, in Redis).
    idle_minutes: int = 30
    # Send the session cookie only over HTTPS (true behind TLS in production).
    secure_cookie: bool = False
    sse_heartbeat_seconds: float = 15.0


@dataclass(frozen=True)
class LogConfig:
    """Log output: level, and one JSON object per line (with request ids) for collectors."""

    level: str = "INFO"
    json: bool = False


@dataclass(frozen=True)
class TicketsConfig:
    """Ticket rules files (admin-editable data) and the WeChat template for progress notices."""

    rules_file: str = "handlers/data/dispatch_rules.yaml"
    states_file: str = "handlers/data/ticket_states.yaml"
    notice_template_id: str = ""
    max_bind_attempts: int = 3


@dataclass(frozen=True)
class DeskConfig:
    """The service desk: worker notices, SLA watch and paging, callbacks, quality review."""

    # WeChat template id for a new dispatch sent to a worker's bound WeChat ("" = console only).
    dispatch_template_id: str = ""
    # Duty paging gateway (SMS/voice) for P1 breaches: an HTTP webhook ("" = none).
    paging_url: str = ""
    paging_timeout_seconds: float = 5.0
    paging_max_attempts: int = 3
    # How often `wuye worker` runs the SLA watch and the other desk jobs.
    job_seconds: float = 60.0
    # Share of closed repairs called back (DOMAIN.md: at least 80%); complaints are always 100%.
    repair_callback_share: float = 1.0
    callback_due_hours: int = 48
    # Chat ratings at or below this score enter the callback list and the quality review.
    low_rating_max: int = 2
    # Share of ordinary handled conversations sampled for quality review.
    quality_sample_share: float = 0.1
    # 回复及时率: a resident's message answered within this many minutes is on time.
    reply_deadline_minutes: int = 30
    # Media (residents' and workers' photos) are stored under var_dir/<media_dir>.
    media_dir: str = "media"
    max_photo_bytes: int = 5_000_000


@dataclass(frozen=True)
class KnowledgeConfig:
    """The admins' knowledge loop: answer feedback, the unanswered queue, retraining, notices."""

    # every_nth: ask after every Nth FAQ answer a resident gets; conversation: once per
    # conversation_hours; off: never.
    feedback_mode: str = "every_nth"
    feedback_every_nth: int = 3
    feedback_conversation_hours: float = 12.0
    feedback_reply_minutes: int = 30  # a numbered reply later than this is not feedback
    # Two unanswered messages whose idf-weighted char-bigram cosine reaches this share a group.
    group_similarity: float = 0.35
    # Labelled JSONL files a retrained model is scored on, before it may replace the old one.
    holdout_files: str = "tests/nlu/data/holdout_b.jsonl,tests/nlu/data/holdout_c.jsonl"
    # The score a new model must not fall below the deployed one's by more than this.
    deploy_tolerance: float = 0.0
    notice_template_id: str = "notice-template-demo"
    # WeChat's template sends: at most this many per second from this account.
    notice_rate_per_second: float = 20.0
    welcome_questions: int = 5
    overview_questions: int = 8  # 常见问题 lists more than the welcome card
    # Offered before any admin pins a list and before any question was answered.
    welcome_default: str = "fee_payment,office_hours,hotline,access_card_apply,repair_hours"


@dataclass(frozen=True)
class Config:
    var_dir: str = "var"
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    wechat: WechatConfig = field(default_factory=WechatConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    conversation: ConversationConfig = field(default_factory=ConversationConfig)
    nlu: NluConfig = field(default_factory=NluConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    tickets: TicketsConfig = field(default_factory=TicketsConfig)
    handoff: HandoffConfig = field(default_factory=HandoffConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    log: LogConfig = field(default_factory=LogConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)

    @property
    def var_path(self) -> Path:
        path = Path(self.var_dir)
        return path if path.is_absolute() else ROOT / path

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.var_path / 'wuye.db'}"

    def path(self, relative: str) -> Path:
        """Resolve a configured path: absolute as is, relative to the project root."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else ROOT / candidate


def _coerce(key: str, value: Any, kind: Any) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{key}: expected true/false, got {value!r}")
    if kind in (int, float):
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if kind is str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key}: expected text, got {type(value).__name__}")
        return str(value)
    return value


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{prefix}{sorted(unknown)[0]}: unknown setting")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kind = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(kind):
            section = data[f.name] or {}
            if not isinstance(section, Mapping):
                raise ConfigError(f"{key}: expected a section")
            values[f.name] = _build(kind, section, f"{key}.")
        elif isinstance(kind, types.UnionType):
            values[f.name] = data[f.name]
        else:
            values[f.name] = _coerce(key, data[f.name], kind)
    return cls(**values)


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """Map WUYE_SECTION_KEY variables onto the nested settings tree."""
    sections = {
        f.name: typing.get_type_hints(Config)[f.name]
        for f in dataclasses.fields(Config)
        if dataclasses.is_dataclass(typing.get_type_hints(Config)[f.name])
    }
    tree: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("WUYE_") or name == "WUYE_CONFIG":
            continue
        rest = name[len("WUYE_"):].lower()
        if rest == "var_dir":
            tree["var_dir"] = value
            continue
        section, _, key = rest.partition("_")
        if section not in sections:
            continue
        fields = {f.name for f in dataclasses.fields(sections[section])}
        if key not in fields:
            raise ConfigError(f"{name}: unknown setting {section}.{key}")
        tree.setdefault(section, {})[key] = value
    return tree


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _aes_key_ok(key: str) -> bool:
    """WeChat's EncodingAESKey: 43 base64 characters that decode to a 32-byte key."""
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _validate(config: Config) -> None:
    if config.knowledge.feedback_mode not in ("conversation", "every_nth", "off"):
        raise ConfigError("knowledge.feedback_mode: expected conversation, every_nth or off")
    if config.knowledge.notice_rate_per_second <= 0:
        raise ConfigError("knowledge.notice_rate_per_second: must be positive")
    aes = config.wechat.aes_key
    if aes and len(aes) != 43:
        raise ConfigError("wechat.aes_key: EncodingAESKey must be 43 characters")
    if config.wechat.require_encryption and not aes:
        raise ConfigError("wechat.require_encryption: needs wechat.aes_key")
    if aes and not _aes_key_ok(aes):
        raise ConfigError("wechat.aes_key: EncodingAESKey is not valid base64 (A-Z a-z 0-9 + /)")
    if not config.wechat.token:
        raise ConfigError("wechat.token: must not be empty")
    if not config.wechat.api_base.startswith(("http://", "https://")):
        raise ConfigError("wechat.api_base: must be an http(s) URL")
    url = config.redis.url
    if not url.startswith(("memory://", "redis://", "rediss://", "unix://")):
        raise ConfigError("redis.url: expected memory:// or redis://host:port/db")
    if config.database.url and "://" not in config.database.url:
        raise ConfigError("database.url: expected a SQLAlchemy URL")
    if not 1 <= config.server.port <= 65535:
        raise ConfigError("server.port: must be between 1 and 65535")
    if config.server.workers < 1 or config.server.threads < 1:
        raise ConfigError("server.workers: workers and threads must be at least 1")
    if config.console.idle_minutes < 1 or config.console.session_hours < 1:
        raise ConfigError("console.idle_minutes: idle_minutes and session_hours must be at "
                          "least 1")
    if config.log.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("log.level: expected DEBUG, INFO, WARNING or ERROR")


def check_production(config: Config, processes: int) -> None:
    """Refuse settings that are only safe for the single-process demo.

    Called by `wuye serve` and `wuye worker` outside demo mode; `processes` counts
    every process that will share state (web workers, plus a separate worker).
    """
    if config.server.demo:
        return
    if config.server.secret_key == ServerConfig.secret_key or len(config.server.secret_key) < 16:
        raise ConfigError("server.secret_key: the built-in (or a short) key lets anyone forge "
                          "console sessions; set WUYE_SERVER_SECRET_KEY to a long random value")
    if config.redis.url.startswith("memory://") and processes > 1:
        raise ConfigError("redis.url: memory:// lives inside one process; with more than one "
                          "process (web workers, `wuye worker`) set WUYE_REDIS_URL=redis://…")


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load config.yaml (or WUYE_CONFIG), apply environment and explicit overrides."""
    env = os.environ if env is None else env
    chosen = Path(path or env.get("WUYE_CONFIG") or DEFAULT_CONFIG_PATH)
    data: dict[str, Any] = {}
    if chosen.exists():
        try:
            loaded = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{chosen}: not valid YAML ({exc})") from None
        if not isinstance(loaded, Mapping):
            raise ConfigError(f"{chosen}: expected a mapping at the top level")
        data = dict(loaded)
    elif path or env.get("WUYE_CONFIG"):
        raise ConfigError(f"WUYE_CONFIG: file not found: {chosen}")
    data = _merge(data, _env_overrides(env))
    if overrides:
        data = _merge(data, overrides)
    config = _build(Config, data, "")
    _validate(config)
    return config
