"""The deployment templates render with given paths, and the results parse (systemd, nginx, cron)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RENDER = ROOT / "deploy" / "render.py"
UNITS = ("student-success-api.service", "student-success-monitor.service")


def render(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RENDER), "--output-dir", str(tmp_path / "out"), *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    app_dir = tmp_path / "srv" / "student-success"
    app_dir.mkdir(parents=True)
    result = render(tmp_path, "--app-dir", str(app_dir), "--python", sys.executable, "--user", "root",
                    "--port", "8123", "--server-name", "ss.example.org", "--tls-cert", "/etc/ss/cert.pem",
                    "--tls-key", "/etc/ss/key.pem", "--max-upload-bytes", str(20 * 1024 * 1024))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5
    return tmp_path / "out"


def test_placeholders_are_all_filled_with_the_given_paths(rendered: Path, tmp_path: Path) -> None:
    app_dir = str(tmp_path / "srv" / "student-success")
    for path in rendered.iterdir():
        text = path.read_text()
        assert not re.search(r"@[A-Z_]+@", text), path.name
    api = (rendered / "student-success-api.service").read_text()
    assert f"WorkingDirectory={app_dir}\n" in api
    assert f"ExecStart={sys.executable} {app_dir}/run_mvp.py\n" in api
    assert "Environment=HOST=127.0.0.1 PORT=8123 PYTHONUNBUFFERED=1\n" in api
    monitor = (rendered / "student-success-monitor.service").read_text()
    assert f"ExecStart={sys.executable} {app_dir}/scripts/system_health_monitor.py --continuous 15" in monitor
    cron = [
        line for line in (rendered / "crontab.example").read_text().splitlines() if line and line[0] != "#"
    ]
    assert (
        cron[0]
        == f"*/15 * * * * cd {app_dir} && {sys.executable} scripts/system_health_monitor.py --output file"
    )
    assert all(len(line.split(None, 5)) == 6 and line.split(None, 5)[5].startswith(f"cd {app_dir} && ")
               for line in cron)  # fmt: skip
    nginx = (rendered / "nginx.conf.example").read_text()
    directives = [
        "server 127.0.0.1:8123;",
        "client_max_body_size 21m;",
        "gzip on;",
        "proxy_buffering off;",
        "ssl_certificate     /etc/ss/cert.pem;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ]
    for directive in directives:
        assert directive in nginx
    assert "credentials_file" in (rendered / "prometheus.yml.example").read_text()


def test_a_value_that_would_break_a_config_file_is_refused(tmp_path: Path) -> None:
    result = render(tmp_path, "--app-dir", str(tmp_path / "my app"))
    assert result.returncode == 1
    assert (
        result.stderr.startswith("error: --app-dir: ")
        and "characters a config file cannot take" in result.stderr
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(rendered: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(rendered / u) for u in UNITS)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def _nginx_structure(text: str) -> None:
    body = re.sub(r"#[^\n]*", "", text)
    depth = 0
    for token in re.findall(r"[{};]|[^\s{};]+", body):
        depth += {"{": 1, "}": -1}.get(token, 0)
        assert depth >= 0
    assert depth == 0
    statements = [s.strip() for s in re.split(r"[{};]", body) if s.strip()]
    assert all(re.match(r"^[a-z_0-9]+(\s|$)", s) for s in statements), statements


def test_nginx_example_is_a_valid_configuration(rendered: Path, tmp_path: Path) -> None:
    site = rendered / "nginx.conf.example"
    _nginx_structure(site.read_text())
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed: the structural check above is all that ran")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ss"]
    subprocess.run([*openssl, "-keyout", str(key), "-out", str(cert)], capture_output=True, check=True)
    text = site.read_text().replace("/etc/ss/cert.pem", str(cert)).replace("/etc/ss/key.pem", str(key))
    (tmp_path / "site.conf").write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\n access_log off;\n include {tmp_path}/site.conf;\n}}\n")  # fmt: skip
    command = [nginx, "-t", "-c", str(main), "-p", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
