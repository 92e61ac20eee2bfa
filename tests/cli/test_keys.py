"""``logflow keys add/list/revoke`` round trip: the key is printed once, never listed, and
works until revoked; a project without ``auth.keys_file`` gets a usage error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from logflow_dagster.auth import ApiKeys, Unauthenticated


def _logflow(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args, "--project",
                           str(root)], capture_output=True, text=True, timeout=60)


def test_keys_round_trip(tmp_path: Path) -> None:
    (tmp_path / "logflow.yaml").write_text("auth:\n  keys_file: .logflow/keys.json\n")
    out = _logflow(tmp_path, "keys", "add", "ana", "--tenant", "acme", "--role", "analyst",
                   "--attr", "region=eu", "--json")
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)["key"]
    assert key.startswith("lf_ana_")
    listed = json.loads(_logflow(tmp_path, "keys", "list", "--json").stdout)["keys"]
    assert [(k["id"], k["tenant"], k["roles"], k["attributes"], k["revoked"]) for k in listed] \
        == [("ana", "acme", ["analyst"], {"region": "eu"}, None)]
    assert key not in (tmp_path / ".logflow" / "keys.json").read_text()
    auth = ApiKeys(tmp_path / ".logflow" / "keys.json")
    assert auth.authenticate(key).tenant == "acme"
    assert _logflow(tmp_path, "keys", "revoke", "ana").returncode == 0
    try:
        auth.authenticate(key)
        raise AssertionError("a revoked key authenticated")
    except Unauthenticated:
        pass
    again = _logflow(tmp_path, "keys", "revoke", "ana")
    assert again.returncode == 2 and "no active key" in again.stderr
    assert "Traceback" not in again.stderr


def test_keys_need_a_keys_file(tmp_path: Path) -> None:
    (tmp_path / "logflow.yaml").write_text("project: p\n")
    out = _logflow(tmp_path, "keys", "add", "ana")
    assert out.returncode == 2 and "auth.keys_file" in out.stderr
