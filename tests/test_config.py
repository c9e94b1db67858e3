from __future__ import annotations

from pathlib import Path

import pytest

from sales_core.config import DEFAULT_ENDPOINT, load_mapping, load_settings, without_userinfo
from sales_core.errors import ConfigError

TOKEN = "patSECRET1234567890.abcdefabcdef"
BASE = "appABCDEFGHIJ1234"


def test_defaults__demo_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "none.toml")
    assert not settings.airtable_configured
    assert settings.source_name == "demo"
    assert settings.endpoint_url == DEFAULT_ENDPOINT
    assert str(settings.db_path) == "data/sales.duckdb"


def test_environment_wins_over_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[airtable]\nAIRTABLE_API_KEY = "{TOKEN}"\nAIRTABLE_BASE_ID = "{BASE}"\n'
        'SALES_DB = "from-file.duckdb"\n'
    )
    settings = load_settings({"SALES_DB": "from-env.duckdb"}, secrets)
    assert settings.airtable_configured
    assert settings.base_id == BASE
    assert str(settings.db_path) == "from-env.duckdb"


def test_token_never_in_repr_or_messages(tmp_path: Path) -> None:
    settings = load_settings({"AIRTABLE_API_KEY": TOKEN, "AIRTABLE_BASE_ID": BASE}, tmp_path / "x")
    assert TOKEN not in repr(settings)
    with pytest.raises(ConfigError) as exc:
        load_settings({"AIRTABLE_API_KEY": TOKEN}, tmp_path / "x")
    assert "AIRTABLE_BASE_ID" in str(exc.value)
    assert TOKEN not in str(exc.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AIRTABLE_API_KEY": TOKEN, "AIRTABLE_BASE_ID": "base1"}, "AIRTABLE_BASE_ID"),
        ({"AIRTABLE_BASE_ID": BASE}, "AIRTABLE_API_KEY"),
        (
            {"AIRTABLE_API_KEY": "pat with spaces inside", "AIRTABLE_BASE_ID": BASE},
            "AIRTABLE_API_KEY",
        ),
        ({"AIRTABLE_ENDPOINT_URL": "ftp://x"}, "AIRTABLE_ENDPOINT_URL"),
        ({"AIRTABLE_TIMEOUT": "soon"}, "AIRTABLE_TIMEOUT"),
        ({"AIRTABLE_MAX_RETRIES": "-1"}, "AIRTABLE_MAX_RETRIES"),
        ({"SALES_MAPPING": "/nonexistent/mapping.toml"}, "SALES_MAPPING"),
    ],
)
def test_wrong_setting__one_message_naming_it(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(env, tmp_path / "none.toml")
    assert named in str(exc.value)
    assert "pat with spaces" not in str(exc.value)


def test_broken_secrets_file__does_not_quote_it(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[airtable]\nAIRTABLE_API_KEY = "{TOKEN}\n')
    with pytest.raises(ConfigError) as exc:
        load_settings({}, secrets)
    assert TOKEN not in str(exc.value)
    assert "line" in str(exc.value)


def test_unknown_setting_in_secrets_is_named(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[airtable]\nAIRTABLE_APIKEY = "x"\n')
    with pytest.raises(ConfigError, match="AIRTABLE_APIKEY"):
        load_settings({}, secrets)


def test_mapping_file_overrides_names(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(
        '[tables]\ncontracts = "Agreements"\n[contracts]\nmonthly_fee = "Fee / month"\n'
    )
    mapping = load_mapping(path)
    assert mapping.table("contracts") == "Agreements"
    assert mapping.field_name("contracts", "monthly_fee") == "Fee / month"
    assert mapping.field_name("contracts", "start_date") == "Start Date"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[contract]\nname = 'x'\n", "[contract]"),
        ("[contracts]\nfee = 'x'\n", "fee"),
        ("[contracts]\nname = ''\n", "name"),
        ("[tables\n", "not valid TOML"),
    ],
)
def test_mapping_file_errors(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_mapping(path)
    assert named in str(exc.value)


@pytest.mark.parametrize(
    "token",
    ["patAbc123.déf456789", "patAbc123\u200b456789", "pat“quoted”12345", "patAbc\x07123456"],
)
def test_a_token_with_characters_no_token_has_is_named_never_shown(
    token: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="characters a token never has") as exc:
        load_settings({"AIRTABLE_API_KEY": token, "AIRTABLE_BASE_ID": BASE}, tmp_path / "x")
    assert token not in str(exc.value) and token[:9] not in str(exc.value)


def test_urls_are_shown_without_their_user_name_and_password(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "AIRTABLE_API_KEY": TOKEN,
            "AIRTABLE_BASE_ID": BASE,
            "AIRTABLE_ENDPOINT_URL": "http://user:s3cret@127.0.0.1:9",
        },
        tmp_path / "x",
    )
    assert settings.endpoint_shown == "http://127.0.0.1:9"
    assert "s3cret" not in repr(settings)
    assert without_userinfo("see https://a:b@x.example/p and ftp://u@h/") == (
        "see https://x.example/p and ftp://h/"
    )
    with pytest.raises(ConfigError) as exc:
        load_settings({"AIRTABLE_ENDPOINT_URL": "ftp://user:s3cret@host"}, tmp_path / "x")
    assert "s3cret" not in str(exc.value)
