"""Settings: defaults that work offline, env-var overrides, clear errors for mistakes."""

from __future__ import annotations

import pytest

from pipelines.settings import PROJECT_ROOT, Settings, SettingsError


def test_defaults_work_offline() -> None:
    settings = Settings.from_env(environ={})
    assert settings.source_mode == "embedded"
    assert settings.contact is None
    assert settings.warehouse == PROJECT_ROOT / "var" / "warehouse.duckdb"
    assert settings.bls_base_url == "https://download.bls.gov/pub/time.series/oe/"


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        environ={
            "CCP_SOURCE_MODE": "live",
            "CCP_CONTACT": "me@example.org",
            "CCP_WAREHOUSE_PATH": "/tmp/x.duckdb",
            "CCP_BLS_BASE_URL": "http://127.0.0.1:9/oe",
            "CCP_HTTP_MAX_RETRIES": "2",
            "HOME": "/root",  # other variables are ignored
        }
    )
    assert settings.source_mode == "live"
    assert settings.contact == "me@example.org"
    assert str(settings.warehouse) == "/tmp/x.duckdb"
    assert settings.bls_base_url == "http://127.0.0.1:9/oe/"
    assert settings.http_max_retries == 2


def test_unknown_setting_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(
        SettingsError, match=r"Unknown setting CCP_CONTCT\. Did you mean CCP_CONTACT"
    ):
        Settings.from_env(environ={"CCP_CONTCT": "me@example.org"})


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("CCP_SOURCE_MODE", "online", "CCP_SOURCE_MODE='online'"),
        ("CCP_CONTACT", "not-an-email", "e-mail"),
        ("CCP_HTTP_TIMEOUT_S", "0", "CCP_HTTP_TIMEOUT_S"),
        ("CCP_BLS_BASE_URL", "ftp://x", "http"),
        # asked of DuckDB itself: not at the first query of a run, in seven steps at once
        ("CCP_DUCKDB_MEMORY_LIMIT", "lots", "CCP_DUCKDB_MEMORY_LIMIT='lots'"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env(environ={name: value})
    assert fragment in str(err.value)


def test_memory_limits_duckdb_reads_are_kept_as_written() -> None:
    for value in ("512MB", "1.5GB", "2GiB", "50%"):
        assert Settings.from_env(
            environ={"CCP_DUCKDB_MEMORY_LIMIT": value}
        ).duckdb_memory_limit == (value)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env for env, _, _ in Settings.from_env(environ={}).describe() if env not in readme]
    assert missing == []


def test_an_empty_source_url_in_the_environment_leaves_the_source_out() -> None:
    """`CCP_CROSSWALK_URL=` (README, live mode): the URL is empty, not the publisher's default
    again; for other settings an empty variable still means unset."""
    names = ["CCP_NAICS_URL", "CCP_SOC_URL", "CCP_EP_URL", "CCP_ONET_URL", "CCP_CROSSWALK_URL"]
    settings = Settings.from_env(environ=dict.fromkeys([*names, "CCP_BLS_BASE_URL"], ""))
    assert [getattr(settings, n.removeprefix("CCP_").lower()) for n in names] == [""] * 5
    assert settings.bls_base_url == Settings().bls_base_url
    assert Settings.from_env(environ={}).crosswalk_url.startswith("https://careertech.org/")
