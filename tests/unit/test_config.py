"""Configuration: every key read, every mistake named with file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.config import (
    PASSWORD_NOT_READ,
    SECTION_KEYS,
    SINK_KEYS,
    ConfigError,
    Secret,
    config_path,
    load,
)

EXAMPLE = Path(__file__).parents[2] / "config" / "example.toml"

MINIMAL = """
[centra]
endpoint = "https://shop.example/ams/system/service/module/soap/api"
username = "erp"
password = "s3cret-pw"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_gets_safe_defaults(tmp_path: Path) -> None:
    """Only endpoint, username and password are needed; timeouts are finite by default."""
    settings = load(write(tmp_path, MINIMAL), environ={})
    assert settings.centra.password.reveal() == "s3cret-pw"
    assert settings.centra.flavor == "soap"
    assert settings.centra.event_type == "all"
    assert settings.centra.markets == ()
    assert 0 < settings.centra.timeout_s < 600
    assert settings.database.url == f"sqlite:///{tmp_path / 'centra-bridge.db'}"


def test_market_ids_as_a_person_writes_them(tmp_path: Path) -> None:
    """markets = [1, 2] means markets "1" and "2"; text ids stay as written."""
    numbers = load(write(tmp_path, MINIMAL + "markets = [1, 2]\n"), environ={})
    assert numbers.centra.markets == ("1", "2")
    mixed = load(write(tmp_path, MINIMAL + 'markets = ["Retail-SE", 3]\n'), environ={})
    assert mixed.centra.markets == ("Retail-SE", "3")


def test_timezone_defaults_to_utc_and_takes_iana_names(tmp_path: Path) -> None:
    """Event dates without an offset are read in [centra] timezone, UTC unless set."""
    assert load(write(tmp_path, MINIMAL), environ={}).centra.timezone == "UTC"
    stockholm = load(write(tmp_path, MINIMAL + 'timezone = "Europe/Stockholm"\n'), environ={})
    assert stockholm.centra.timezone == "Europe/Stockholm"


def test_password_never_shows_in_repr(tmp_path: Path) -> None:
    """Printing the settings (a debugger, a log line) does not print the password."""
    settings = load(write(tmp_path, MINIMAL), environ={})
    assert "s3cret-pw" not in repr(settings)
    assert "s3cret-pw" not in str(Secret("s3cret-pw"))


def test_password_from_file_env_or_credentials(tmp_path: Path) -> None:
    """password_file, then $CENTRA_BRIDGE_PASSWORD, then the systemd credential are used."""
    base = MINIMAL.replace('password = "s3cret-pw"\n', "")
    (tmp_path / "pw").write_text("from-file\n")
    from_file = load(write(tmp_path, base + 'password_file = "pw"\n'), environ={})
    assert from_file.centra.password.reveal() == "from-file"
    from_env = load(write(tmp_path, base), environ={"CENTRA_BRIDGE_PASSWORD": "from-env"})
    assert from_env.centra.password.reveal() == "from-env"
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "centra_password").write_text("from-credential")
    from_cred = load(write(tmp_path, base), environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert from_cred.centra.password.reveal() == "from-credential"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "timeout = 0\n", "[centra] timeout: must be a positive number, got 0"),
        (MINIMAL + 'flavor = "rest"\n', "[centra] flavor: must be one of soap, navision-soap"),
        (MINIMAL + 'event_type = "orders"\n', "[centra] event_type: must be one of all"),
        (MINIMAL + "markets = [true]\n", "[centra] markets: must be a list of market ids"),
        (MINIMAL + 'markets = [""]\n', "[centra] markets: must be a list of market ids"),
        (MINIMAL + 'timezone = "Mars/Base"\n', "[centra] timezone: unknown time zone 'Mars/Base'"),
        (MINIMAL + "colour = 1\n", "[centra] colour: unknown key"),
        (MINIMAL.replace('username = "erp"\n', ""), "[centra] username: missing"),
        (MINIMAL.replace("https://", "ftp://"), "[centra] endpoint: must be an http://"),
        (MINIMAL.replace("https://shop.example", "http://"), "[centra] endpoint: must be an"),
        (MINIMAL.replace("https://", "https://erp:pw@"), "[centra] endpoint: must not carry"),
        (MINIMAL + "timeout = nan\n", "[centra] timeout: must be a positive number, got nan"),
        (MINIMAL + "timeout = inf\n", "[centra] timeout: must be a positive number, got inf"),
        (MINIMAL + '[database]\nurl = "mysql://x"\n', "[database] url: must start with"),
        (MINIMAL + "[handlers]\nmax_attempts = 0\n", "[handlers] max_attempts: must be at"),
        (MINIMAL + '[handlers.custom]\norder = "nodots"\n', "[handlers] custom.order: must be"),
        (MINIMAL + "[web]\nport = 70000\n", "[web] port: must be 0 (off) to 65535, got 70000"),
        (MINIMAL + "[web]\nsession = 0\n", "[web] session: must be a positive number, got 0"),
        (MINIMAL + "[extra]\n", "[extra]: unknown section"),
        ("[centra\n", "not valid TOML"),
        ("", "[centra]: section missing"),
    ],
)
def test_mistakes_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    """Each error is one line that starts with the file and names what is wrong."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_missing_password_says_where_to_put_it(tmp_path: Path) -> None:
    """With no password anywhere the error lists the ways to give one."""
    path = write(tmp_path, MINIMAL.replace('password = "s3cret-pw"\n', ""))
    with pytest.raises(ConfigError, match=r"\[centra\] password: missing.*CENTRA_BRIDGE_PASSWORD"):
        load(path, environ={})


def test_missing_file_and_no_config_given(tmp_path: Path) -> None:
    """A missing file and a missing --config are both named."""
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="--config FILE or set CENTRA_BRIDGE_CONFIG"):
        config_path(None, environ={})
    assert config_path(None, environ={"CENTRA_BRIDGE_CONFIG": "x.toml"}) == Path("x.toml")
    assert config_path("y.toml", environ={"CENTRA_BRIDGE_CONFIG": "x.toml"}) == Path("y.toml")


def example_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Every key config/example.toml shows, set or commented out: by section, and the keys of
    its ``[sinks.*]`` examples by sink kind."""
    sections: dict[str, set[str]] = {}
    current = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        text = line.lstrip("#").strip()
        if header := re.fullmatch(r"\[([a-z_.]+)\]", text):
            current = header[1]
            sections.setdefault(current, set())
        elif key := re.match(r"([a-z_]+)\s*=\s*(\S+)", text):
            sections.setdefault(current, set()).add(key[1])
            if key[1] == "kind":
                sections[current].add("kind=" + key[2].strip('"'))
    sinks: dict[str, set[str]] = {}
    for name, keys in list(sections.items()):
        if name.startswith("sinks."):
            del sections[name]
            kind = next(k.removeprefix("kind=") for k in keys if k.startswith("kind="))
            sinks[kind] = {k for k in keys if not k.startswith("kind")}
    if "handlers.custom" in sections:
        del sections["handlers.custom"]
        sections["handlers"].add("custom")
    return sections, sinks


def test_example_lists_every_key_the_loader_accepts() -> None:
    """config/example.toml shows each key the loader accepts, and no key it would refuse."""
    sections, sinks = example_keys()
    assert sections == {name: set(keys) for name, keys in SECTION_KEYS.items()}
    assert sinks == {kind: set(keys) for kind, keys in SINK_KEYS.items()}


def test_example_loads_with_the_password_from_the_environment() -> None:
    """The example as shipped sets no password, so the environment's (or systemd's) is used."""
    settings = load(EXAMPLE, environ={"CENTRA_BRIDGE_PASSWORD": "from-env-pw"})
    assert settings.centra.password.reveal() == "from-env-pw"
    assert settings.centra.password_source == "environment variable CENTRA_BRIDGE_PASSWORD"
    assert settings.database.url == "sqlite:////var/lib/centra-bridge/centra-bridge.db"


def test_password_source_is_named_and_the_password_is_not(tmp_path: Path) -> None:
    """Each source says where it is; the systemd credential beats nothing set in the file."""
    base = MINIMAL.replace('password = "s3cret-pw"\n', "")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "centra_password").write_text("from-credential")
    settings = load(write(tmp_path, base), environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert settings.centra.password_source == f"systemd credential {creds / 'centra_password'}"
    assert load(write(tmp_path, MINIMAL), environ={}).centra.password_source == (
        "[centra] password"
    )


def test_without_the_password_nothing_is_looked_for(tmp_path: Path) -> None:
    """read_password=False: an unreadable password_file does not stop a read-only command."""
    base = MINIMAL.replace('password = "s3cret-pw"\n', "")
    path = write(tmp_path, base + 'password_file = "/nonexistent/pw"\n')
    with pytest.raises(ConfigError, match="cannot read /nonexistent/pw"):
        load(path, environ={})
    settings = load(path, environ={}, read_password=False)
    assert not settings.centra.password
    assert settings.centra.password_source == PASSWORD_NOT_READ


def test_web_console_is_off_unless_a_port_is_set(tmp_path: Path) -> None:
    """No [web]: no console; users_file resolves beside the config, like every file."""
    assert load(write(tmp_path, MINIMAL), environ={}).web.port == 0
    web = load(
        write(tmp_path, MINIMAL + '[web]\nport = 8080\nusers_file = "web-users"\n'), environ={}
    ).web
    assert (web.host, web.port, web.users_file) == ("127.0.0.1", 8080, tmp_path / "web-users")
