import keras
import numpy as np
import pytest

from lenet_keras.model import C3_TABLE, ModelConfig, PartialConv2D, build_lenet5, c3_connections

PAPER_PARAMS = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}


def test_classic_matches_the_paper_parameter_counts():
    model = build_lenet5(ModelConfig(variant="classic"))
    counts = {layer.name: layer.count_params() for layer in model.layers if layer.name in PAPER_PARAMS}
    assert counts == PAPER_PARAMS
    assert model.get_layer("output").count_params() == 84 * 10 + 10
    assert model.count_params() == 60850


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_shapes_and_logits(variant):
    model = build_lenet5(ModelConfig(variant=variant))
    assert model.input_shape == (None, 32, 32, 1)
    names = [layer.name for layer in model.layers]
    for name in ["C1", "S2", "C3", "S4", "C5", "F6", "output"]:
        assert name in names
    out = model(np.random.default_rng(0).normal(size=(3, 32, 32, 1)).astype("float32"))
    assert out.shape == (3, 10)
    assert model.get_layer("output").activation.__name__ == "linear"  # logits, softmax lives in the loss
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) <= 62_000  # the budget


def test_c3_table_is_the_papers_table_one():
    mask = c3_connections()
    assert mask.shape == (6, 16) and mask.sum() == 60
    assert list(mask.sum(axis=0)) == [3] * 6 + [4] * 9 + [6]
    assert [int(i) for i in np.flatnonzero(mask[:, 12])] == [0, 1, 3, 4]
    assert [int(i) for i in np.flatnonzero(mask[:, 14])] == [0, 2, 3, 5]


def test_partial_conv_output_ignores_unconnected_maps():
    # Oracle: changing an input map that C3 map j does not read leaves map j unchanged.
    layer = PartialConv2D(C3_TABLE)
    x = np.random.default_rng(1).normal(size=(1, 14, 14, 6)).astype("float32")
    y = np.asarray(layer(x))
    x2 = x.copy()
    x2[..., 5] += 10.0  # map 5 is read by C3 maps 3, 4, 5, 8-11, 13, 14, 15 only
    y2 = np.asarray(layer(x2))
    readers = {j for j, ins in enumerate(C3_TABLE) if 5 in ins}
    for j in range(16):
        changed = not np.allclose(y[..., j], y2[..., j])
        assert changed == (j in readers), j


def test_partial_conv_equals_dense_conv_with_masked_kernel():
    layer = PartialConv2D(C3_TABLE)
    x = np.random.default_rng(2).normal(size=(2, 14, 14, 6)).astype("float32")
    y = np.asarray(layer(x))
    dense = keras.layers.Conv2D(16, 5)
    dense.build((None, 14, 14, 6))
    dense.set_weights([np.asarray(layer.dense_kernel()), np.asarray(layer.bias)])
    np.testing.assert_allclose(np.asarray(dense(x)), y, atol=1e-5)
    kernel = np.asarray(layer.dense_kernel())
    assert np.all(kernel[:, :, c3_connections() == 0] == 0)


def test_classic_model_saves_and_reloads_safely(tmp_path):
    model = build_lenet5(ModelConfig(variant="classic"))
    x = np.random.default_rng(3).normal(size=(4, 32, 32, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(reloaded(x)), np.asarray(model(x)), atol=1e-6)


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown variant 'lenet7'"):
        build_lenet5(ModelConfig(variant="lenet7"))
