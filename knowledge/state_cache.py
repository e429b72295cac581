"""The fitted search state (classifier head, BM25 matrix, answer rule) kept on disk between restarts.

Fitting takes seconds (the classifier and its calibration on a 1,500-question KB, the margin rule on a
20,000-entry one), and a server is ready only once it is done. The state is a pure function of the KB's
contents, the ranking settings and the ranking code, so it is stored under a key made of all three and
refitted whenever any of them differs. Only for the embedded Chroma of one data dir; a disposable cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import uuid
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("warmdesk.knowledge")

_CODE = ("ranking.py", "calibration.py", "decision.py", "lexical.py", "state_cache.py", "elsewhere.py")


class StateCache:
    def __init__(self, client, collection: str) -> None:
        settings = client.get_settings()
        directory = Path(settings.persist_directory) if settings.is_persistent else None
        self._file = directory / f"{collection}.state.pickle" if directory else None

    def key(self, contents: Iterable[str], settings: object) -> str:
        digest = hashlib.sha1(_code_fingerprint().encode())
        digest.update(repr(settings).encode())
        for part in contents:
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def load(self, key: str):
        if self._file is None:
            return None
        try:
            with self._file.open("rb") as stream:
                stored_key, state = pickle.load(stream)  # our own file in our own data dir
        except FileNotFoundError:
            return None
        except Exception as error:  # damaged or from an incompatible version: refit
            log.info("ignoring the cached search state (%s)", error)
            return None
        return state if stored_key == key else None

    def save(self, key: str, state) -> None:
        if self._file is None:
            return
        temporary = self._file.with_name(f"{self._file.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with temporary.open("wb") as stream:
                pickle.dump((key, state), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self._file)
        except OSError as error:
            log.warning("could not cache the search state: %s", error)
            temporary.unlink(missing_ok=True)


def _code_fingerprint() -> str:
    here = Path(__file__).parent
    return hashlib.sha1(b"".join((here / name).read_bytes() for name in _CODE)).hexdigest()
