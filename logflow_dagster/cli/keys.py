"""``logflow keys add|list|revoke``: the project's API keys file (``auth.keys_file``)."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import DebugOpt, JsonOpt, ProjectOpt, app, emit, guarded

keys_app = typer.Typer(help="API keys of the HTTP API and the CLI's --token (stored hashed).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _store(project: str):  # -> KeyStore (imported lazily)
    from pathlib import Path

    from ..auth import KeyStore
    from ..config import load_config
    from ..core.errors import UsageError

    config = load_config(Path(project) / "logflow.yaml")
    if not config.auth.keys_file:
        raise UsageError(f"{project}/logflow.yaml: no auth.keys_file (add auth: {{keys_file: "
                         ".logflow/keys.json}})")
    return KeyStore(Path(config.root) / config.auth.keys_file)


@keys_app.command("add")
def add(
    key_id: Annotated[str, typer.Argument(help="Who the key is for (its identity id).")],
    tenant: Annotated[str | None, typer.Option(help="The identity's tenant.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="A role (repeatable).")] = None,
    attr: Annotated[list[str] | None, typer.Option(
        "--attr", help="An attribute key=value (repeatable).")] = None,
    project: ProjectOpt = ".",
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Create a key; it is printed once and only its hash is kept."""
    with guarded(debug):
        from ..core.errors import UsageError

        attributes = {}
        for item in attr or []:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise UsageError(f"--attr {item!r}: expected key=value")
            attributes[name] = value
        key = _store(project).add(key_id, tenant=tenant, roles=role or [],
                                  attributes=attributes)
    emit({"id": key_id, "key": key}, json_out,
         f"{key}\n(the key for {key_id}: shown once, store it now)")


@keys_app.command("list")
def list_keys(project: ProjectOpt = ".", json_out: JsonOpt = False,
              debug: DebugOpt = False) -> None:
    """List keys (never their secrets)."""
    with guarded(debug):
        keys = _store(project).list()
    lines = [f"{k['id']}\ttenant={k.get('tenant') or '-'}\troles={','.join(k.get('roles') or [])}"
             f"\t{'revoked' if k.get('revoked') else 'active'}" for k in keys]
    emit({"keys": keys}, json_out, "\n".join(lines) or "no keys")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")],
           project: ProjectOpt = ".", json_out: JsonOpt = False,
           debug: DebugOpt = False) -> None:
    """Revoke a key (a running server refuses it at once)."""
    with guarded(debug):
        _store(project).revoke(key_id)
    emit({"id": key_id, "revoked": True}, json_out, f"revoked {key_id}")
