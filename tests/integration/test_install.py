"""The service install as the README gives it, and the wheel that carries its files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from bridge_process import child_env

REPO = Path(__file__).parents[2]
#: Where the README's commands find the bridge: the wheel's environment.
VENV = "/opt/centra-bridge/.venv"


def readme_install_script() -> str:
    """The shell block under "Install (as root)" in README.md, as written there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Running as a service") :]
    return re.search(r"Install \(as root\).*?```sh\n(.*?)```", section, re.S)[1]  # type: ignore[index]


def relocated(text: str, root: Path) -> str:
    """The same commands under ``root``: /etc is ``root``/etc, the environment is this one
    (config/ and systemd/ from this checkout, as the wheel installs them under share/)."""
    text = text.replace(f"{VENV}/share/centra-bridge", str(REPO))
    text = text.replace(f"{VENV}/bin/centra-bridge", f"{sys.executable} -m bridge")
    return text.replace("/etc/", f"{root}/etc/")


def unit_setting(unit: str, key: str) -> str:
    return re.search(rf"^{key}=(.*)$", unit, re.M)[1]  # type: ignore[index]


def test_the_readme_service_install_loads_its_configuration(tmp_path: Path) -> None:
    """Following the README's install literally (systemctl aside), then starting the unit's
    command as systemd would, with its credential: config check exits 0 and names the
    database and the credential."""
    root = tmp_path / "root"
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    script = "\n".join(
        line
        for line in relocated(readme_install_script(), root).splitlines()
        if not line.startswith("systemctl")
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok: the configuration loads" in done.stdout

    unit = relocated((root / "etc/systemd/system/centra-bridge.service").read_text(), root)
    name, source = unit_setting(unit, "LoadCredential").split(":", 1)
    credentials = tmp_path / "run" / "credentials" / "centra-bridge.service"
    credentials.mkdir(parents=True)
    shutil.copy(source, credentials / name)
    command = unit_setting(unit, "ExecStart").split()
    assert command[-1] == "run"
    checked = subprocess.run(
        [*command[:-1], "config", "check"],
        capture_output=True,
        text=True,
        env=child_env({"CREDENTIALS_DIRECTORY": str(credentials)}),
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"from systemd credential {credentials / 'centra_password'}" in checked.stdout
    assert "/var/lib/centra-bridge/centra-bridge.db: not there yet" in checked.stdout
    assert "the-soap-password" not in checked.stdout + checked.stderr


def test_the_wheel_carries_the_example_configuration_and_the_units(tmp_path: Path) -> None:
    """What the README's install copies is in the wheel, under share/centra-bridge/."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("centra_bridge-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = {Path(name).relative_to(Path(name).parts[0]) for name in archive.namelist()}
    share = Path("data/share/centra-bridge")
    assert share / "config" / "example.toml" in names
    for unit in (REPO / "systemd").iterdir():
        assert share / "systemd" / unit.name in names
    # The web console's pages travel inside the package.
    for template in (REPO / "bridge" / "web" / "templates").iterdir():
        assert Path("web") / "templates" / template.name in names
