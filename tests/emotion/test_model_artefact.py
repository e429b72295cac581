"""The artefact format: language-split features round-trip, and old artefacts without the flag still load."""

from __future__ import annotations

import numpy as np

from bot.emotion.cues import CUE_FEATURES, extract_cues
from bot.emotion.embedding_cache import cached_query_embeddings, remember
from bot.emotion.model import LinearEmotionModel, load_model


def test_language_split_model_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    n_features = 2 * 384 + len(CUE_FEATURES)
    weights = (0.05 * rng.normal(size=(n_features, 5))).astype(np.float32)
    model = LinearEmotionModel(weights, np.zeros(5, dtype=np.float32), language_split=True)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    assert loaded.language_split
    vector = rng.normal(size=384).astype(np.float32)
    for text in ("where is my parcel", "我的快递到哪了"):
        cues = extract_cues(text).features
        assert loaded.features(vector, cues).shape == (n_features,)
        np.testing.assert_allclose(loaded.probabilities(vector, cues), model.probabilities(vector, cues), rtol=1e-4)
    english = loaded.features(vector, extract_cues("where is my parcel").features)
    assert not english[384:768].any()


def test_the_chinese_copy_scale_round_trips_and_old_artefacts_load_unscaled(tmp_path):
    weights = np.zeros((2 * 384 + len(CUE_FEATURES), 5), dtype=np.float32)
    scaled = LinearEmotionModel(weights, np.zeros(5, dtype=np.float32), language_split=True, chinese_scale=2.0)
    scaled.save(tmp_path / "scaled.npz")
    vector = np.ones(384, dtype=np.float32)
    chinese = load_model(tmp_path / "scaled.npz").features(vector, extract_cues("我的快递到哪了").features)
    assert chinese[384:768].tolist() == [2.0] * 384

    with np.load(tmp_path / "scaled.npz") as data:
        np.savez_compressed(tmp_path / "old.npz", **{k: data[k] for k in data.files if k != "chinese_scale"})
    assert load_model(tmp_path / "old.npz").chinese_scale == 1.0


def test_artefact_without_language_flag_loads_as_shared(tmp_path):
    path = tmp_path / "old.npz"
    np.savez_compressed(
        path,
        weights=np.zeros((384 + len(CUE_FEATURES), 5), dtype=np.float32),
        bias=np.zeros(5, dtype=np.float32),
        labels=np.array(["anger", "anxiety", "sadness", "joy", "neutral"]),
        cue_features=np.array(CUE_FEATURES),
        cue_scale=np.float32(1.0),
    )
    assert not load_model(path).language_split


def test_embedding_cache_reuses_vectors_per_text(tmp_path):
    vectors = np.arange(2 * 384, dtype=np.float32).reshape(2, 384)
    assert remember(["a", "b"], vectors, cache_dir=tmp_path) == 2
    got = cached_query_embeddings(["b", "a", "b"], cache_dir=tmp_path)  # no embedder needed: all cached
    np.testing.assert_array_equal(got, vectors[[1, 0, 1]])
