"""The web console's users file and its limit on failed logins."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import WEB_USERS_CREDENTIAL, ConfigError, WebSettings
from bridge.web.limits import LoginLimiter
from bridge.web.users import Role, Users, load_users, user_line


def test_a_line_made_by_hash_password_logs_in_with_that_password_only() -> None:
    line = user_line("ada", Role.OPERATE, "correct horse")
    assert "correct horse" not in line
    users = Users.parse(f"# operators\n\n{line}\n", "web-users")
    user = users.check("ada", "correct horse")
    assert user is not None and user.may_operate
    assert users.check("ada", "wrong") is None
    assert users.check("nobody", "correct horse") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ada:admin:$argon2id$x", "web-users: line 1: role must be read or operate, got 'admin'"),
        ("ada:read:secret", "web-users: line 1: not an argon2 hash"),
        ("ada:read:$argon2id$x\nada:read:$argon2id$y", "web-users: line 2: user 'ada' is listed"),
        ("# nobody yet\n", "web-users: no users"),
    ],
)
def test_a_bad_users_file_is_one_line_naming_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Users.parse(text, "web-users")
    assert str(refused.value).startswith(problem)
    assert "\n" not in str(refused.value)


def test_users_come_from_the_file_else_the_systemd_credential(tmp_path: Path) -> None:
    line = user_line("rob", Role.READ, "pw")
    (tmp_path / WEB_USERS_CREDENTIAL).write_text(line + "\n", encoding="utf-8")
    users = load_users(WebSettings(), {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert list(users.by_name) == ["rob"]
    with pytest.raises(ConfigError, match=r"\[web\] users_file: missing"):
        load_users(WebSettings(), {})
    with pytest.raises(ConfigError, match=r"\[web\] users_file: cannot read .*absent"):
        load_users(WebSettings(users_file=tmp_path / "absent"), {})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_logins_block_the_name_and_the_address_until_the_window_passes() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=clock)
    for _ in range(3):
        assert not limiter.blocked("ada", "10.0.0.1")
        limiter.failed("ada", "10.0.0.1")
    assert limiter.blocked("ada", "10.0.0.9")  # the name, from anywhere
    assert limiter.blocked("bob", "10.0.0.1")  # anyone, from that address
    assert not limiter.blocked("bob", "10.0.0.9")
    clock.now += 60
    assert not limiter.blocked("ada", "10.0.0.1")


def test_a_right_password_clears_the_names_failures() -> None:
    limiter = LoginLimiter(max_failures=2, window_s=60, clock=Clock())
    limiter.failed("ada", "10.0.0.1")
    limiter.succeeded("ada")
    limiter.failed("ada", "10.0.0.2")
    assert not limiter.blocked("ada", "10.0.0.3")
