"""Authenticators: anonymous local access, API keys (hashed, revocable while a server runs),
JWT HS256 and RS256 (claims -> identity; expired, tampered and 'none' tokens refused)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from logflow_dagster.auth import (
    ANONYMOUS,
    Anonymous,
    ApiKeys,
    Chain,
    Jwt,
    KeyStore,
    Unauthenticated,
    authenticator_for,
)
from logflow_dagster.config import ProjectConfig

SECRET = "s3cret-for-tests-only-0123456789abcdef"


def test_anonymous_serves_local_callers_only() -> None:
    for credential in (None, "", "undefined", "Bearer undefined", "anything"):
        assert Anonymous().authenticate(credential, peer="127.0.0.1") == ANONYMOUS
    assert Anonymous().authenticate(None).id == "anonymous"  # in-process (CLI, Python)
    with pytest.raises(Unauthenticated):
        Anonymous().authenticate(None, peer="192.168.1.9")
    assert authenticator_for(ProjectConfig()).configured is False


def test_api_keys_hashed_and_revocable(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key = store.add("etl", tenant="acme", roles=["writer"], attributes={"region": "eu"})
    assert key not in (tmp_path / "keys.json").read_text()  # only the hash is stored
    auth = ApiKeys(tmp_path / "keys.json")
    who = auth.authenticate(f"Bearer {key}", peer="10.1.1.1")
    assert (who.id, who.tenant, who.roles, who.attributes, who.peer) == (
        "etl", "acme", frozenset({"writer"}), {"region": "eu"}, "10.1.1.1")
    assert auth.authenticate(key).id == "etl"  # without Bearer, as Cube's client sends it
    for bad in (None, "undefined", key[:-1] + "x", "Bearer "):
        with pytest.raises(Unauthenticated):
            auth.authenticate(bad)
    # another process revokes it: the running authenticator sees the file change
    subprocess.run([sys.executable, "-c", "import sys; from logflow_dagster.auth import "
                    "KeyStore; KeyStore(sys.argv[1]).revoke('etl')",
                    str(tmp_path / "keys.json")], check=True)
    with pytest.raises(Unauthenticated, match="revoked"):
        auth.authenticate(key)


def test_jwt_hs256_claims_become_the_identity() -> None:
    auth = Jwt(SECRET, ["HS256"])
    token = jwt.encode({"sub": "ana", "tenant": "acme", "roles": ["analyst"], "region": "eu",
                        "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    who = auth.authenticate(token, peer="10.0.0.2")
    assert (who.id, who.tenant, who.roles) == ("ana", "acme", frozenset({"analyst"}))
    assert who.attributes["region"] == "eu"
    assert who.security_context()["tenant"] == "acme"
    assert auth.authenticate(f"Bearer {token}").id == "ana"
    expired = jwt.encode({"sub": "ana", "exp": int(time.time()) - 5}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate(expired)
    with pytest.raises(Unauthenticated, match="invalid token"):
        auth.authenticate(jwt.encode({"sub": "ana"}, "other-secret-0123456789abcdef0123",
                                     algorithm="HS256"))
    unsigned = jwt.encode({"sub": "root"}, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        auth.authenticate(unsigned)
    with pytest.raises(ValueError, match="none"):
        Jwt(SECRET, ["none"])


def test_jwt_rs256_from_the_project_config(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "jwt.pub").write_bytes(pem)
    config = ProjectConfig.model_validate({
        "root": str(tmp_path), "auth": {"jwt": {"public_key": "jwt.pub",
                                                "algorithms": ["RS256"], "audience": "logflow",
                                                "tenant_claim": "org"}}})
    auth = authenticator_for(config)
    assert auth.configured
    token = jwt.encode({"sub": "svc", "org": "acme", "aud": "logflow"}, private,
                       algorithm="RS256")
    who = auth.authenticate(token)
    assert (who.id, who.tenant) == ("svc", "acme")
    with pytest.raises(Unauthenticated):  # wrong audience
        auth.authenticate(jwt.encode({"sub": "svc", "aud": "x"}, private, algorithm="RS256"))
    with pytest.raises(Unauthenticated):  # HS256 "signed" with the public key: refused
        auth.authenticate(_hs256_by_hand({"sub": "svc", "aud": "logflow"}, pem))


def _hs256_by_hand(claims: dict, key: bytes) -> str:
    """The algorithm-confusion attack: an HS256 token keyed with the RS256 public key (PyJWT
    refuses to make one, so it is made here)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(key, head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + sig).decode()


def test_chain_of_keys_and_jwt(tmp_path: Path) -> None:
    (tmp_path / "logflow.yaml").write_text("x: 1\n")
    key = KeyStore(tmp_path / "k.json").add("etl")
    config = ProjectConfig.model_validate({"root": str(tmp_path), "auth": {
        "keys_file": "k.json", "jwt": {"secret": SECRET}}})
    auth = authenticator_for(config)
    assert isinstance(auth, Chain)
    assert auth.authenticate(key).id == "etl"
    token = jwt.encode({"sub": "ana"}, SECRET, algorithm="HS256")
    assert auth.authenticate(token).id == "ana"
    with pytest.raises(Unauthenticated):
        auth.authenticate(None, peer="127.0.0.1")  # configured: no anonymous access
    assert json.loads((tmp_path / "k.json").read_text())["keys"][0]["id"] == "etl"


def test_table_level_actions_need_a_write_role(tmp_path: Path) -> None:
    """Ingest, maintenance and rollup builds go through the project's authorizer: a key
    without a write role is refused (exit 77, no table written), a writer's key works."""
    (tmp_path / "logflow.yaml").write_text("auth:\n  keys_file: keys.json\n")
    store = KeyStore(tmp_path / "keys.json")
    reader, writer = store.add("reader"), store.add("loader", roles=["writer"])
    (tmp_path / "a.csv").write_text("n\n1\n2\n")

    def logflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args, "--project",
                               str(tmp_path)], capture_output=True, text=True, timeout=120)

    refused = logflow("ingest", str(tmp_path / "a.csv"), "--table", "raw.a", "--token", reader)
    assert refused.returncode == 77 and "reader may not ingest raw.a" in refused.stderr
    assert not (tmp_path / ".logflow" / "warehouse" / "raw").exists()
    done = logflow("ingest", str(tmp_path / "a.csv"), "--table", "raw.a", "--token", writer,
                   "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows_written"] == 2
    assert logflow("compact", "raw.a", "--token", reader).returncode == 77
    assert logflow("compact", "raw.a", "--token", writer).returncode == 0
    assert logflow("compact", "raw.a").returncode == 0  # the local user, no token: trusted


def test_jwt_claims_of_the_wrong_shape_are_refused_not_crashed() -> None:
    auth = Jwt(SECRET, ["HS256"])
    exp = int(time.time()) + 60
    for claims in ({"roles": ["a"], "exp": exp},  # no sub: no shared "token" identity
                   {"sub": "ana", "roles": 5, "exp": exp},
                   {"sub": "ana", "roles": [{"admin": True}], "exp": exp},
                   {"sub": "ana", "tenant": ["acme", "globex"], "exp": exp}):
        with pytest.raises(Unauthenticated, match="invalid token"):
            auth.authenticate(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_a_refreshed_jwt_keeps_the_identitys_scope() -> None:
    auth = Jwt(SECRET, ["HS256"])
    now = int(time.time())
    first, second = (jwt.encode({"sub": "ana", "tenant": "acme", "region": "eu", "iat": now - i,
                                 "exp": now + 60 + i, "jti": f"t{i}"}, SECRET, algorithm="HS256")
                     for i in (0, 1))
    a, b = auth.authenticate(first), auth.authenticate(second)
    assert a.attributes == {"region": "eu"} and a.scope() == b.scope()
