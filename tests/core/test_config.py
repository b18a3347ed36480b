"""Config: one typed object from config.yaml, WUYE_* overrides, clear errors."""

from pathlib import Path

import pytest

from core.config import ConfigError, load_config


def test_defaults_use_sqlite_under_var_and_memory_redis() -> None:
    config = load_config(env={})
    assert config.database_url.startswith("sqlite:///")
    assert config.database_url.endswith("var/wuye.db")
    assert config.redis.url == "memory://"


def test_environment_overrides_file() -> None:
    config = load_config(
        env={
            "WUYE_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "WUYE_REDIS_URL": "redis://127.0.0.1:6399/1",
            "WUYE_WECHAT_TOKEN": "tok",
            "WUYE_WECHAT_APPID": "wxabc",
            "WUYE_WECHAT_SECRET": "sec",
            "WUYE_WECHAT_AES_KEY": "a" * 43,
            "WUYE_WECHAT_API_BASE": "http://127.0.0.1:9/",
            "WUYE_SERVER_PORT": "8123",
        }
    )
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.redis.url == "redis://127.0.0.1:6399/1"
    wechat = config.wechat
    assert (wechat.token, wechat.appid, wechat.secret) == ("tok", "wxabc", "sec")
    assert config.wechat.aes_key == "a" * 43
    assert config.wechat.api_base == "http://127.0.0.1:9/"
    assert config.server.port == 8123


def test_config_file_chosen_by_env(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("wechat:\n  token: from-file\n", encoding="utf-8")
    assert load_config(env={"WUYE_CONFIG": str(path)}).wechat.token == "from-file"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"WUYE_SERVER_PORT": "eighty"}, "server.port"),
        ({"WUYE_WECHAT_AES_KEY": "short"}, "wechat.aes_key"),
        ({"WUYE_REDIS_URL": "mysql://x"}, "redis.url"),
        ({"WUYE_WECHAT_API_BASE": "ftp://x"}, "wechat.api_base"),
        ({"WUYE_SERVER_DEMO": "maybe"}, "server.demo"),
        ({"WUYE_WECHAT_NOPE": "1"}, "wechat.nope"),
        ({"WUYE_CONFIG": "/does/not/exist.yaml"}, "WUYE_CONFIG"),
    ],
    ids=["port", "aes", "redis", "api-base", "bool", "unknown", "missing-file"],
)
def test_bad_value_names_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(env=env)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server:\n  prot: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_config(path=path, env={})


def test_config_yaml_states_the_defaults() -> None:
    """config.yaml documents every setting; its values are the code's defaults."""
    assert load_config(env={}) == load_config(path="/dev/null", env={})
