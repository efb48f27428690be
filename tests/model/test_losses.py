"""The loss functions against hand-computed numbers and finite-difference gradients."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from brushwork.model.losses import (
    Guide,
    content_loss,
    gram_matrix,
    guided_gram_sum,
    guided_grams,
    seed_total_loss,
    sliced_wasserstein_loss,
    style_loss,
    tv_loss,
)

# A 1x2x2x2 feature map: channel 0 = [[1, 2], [3, 4]], channel 1 = [[0, 1], [0, -1]].
F = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]])
# By hand: c0.c0 = 1+4+9+16 = 30, c0.c1 = 0+2+0-4 = -2, c1.c1 = 0+1+0+1 = 2.
GRAM = torch.tensor([[[30.0, -2.0], [-2.0, 2.0]]])


def test_gram_matrix_by_hand():
    assert torch.equal(gram_matrix(F, normalize=False), GRAM)
    # normalised by C*H*W = 2*2*2 = 8
    assert torch.allclose(gram_matrix(F), torch.tensor([[[3.75, -0.25], [-0.25, 0.25]]]))


def test_gram_matrix_batch_items_are_independent():
    other = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 2.0]]]])
    grams = gram_matrix(torch.cat([F, other]), normalize=False)
    assert grams.shape == (2, 2, 2)
    assert torch.equal(grams[0], GRAM[0])
    assert torch.equal(grams[1], torch.tensor([[1.0, 0.0], [0.0, 4.0]]))


def test_normalised_gram_does_not_depend_on_image_size():
    """The report's normalisation: tiling a feature map 2x2 leaves the normalised Gram unchanged."""
    tiled = F.repeat(1, 1, 2, 2)
    assert torch.allclose(gram_matrix(tiled), gram_matrix(F))
    assert torch.allclose(gram_matrix(tiled, normalize=False), 4 * GRAM)


def test_content_loss_by_hand():
    current = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    original = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]]])
    # differences 0, 2, 2, 3 -> squares 0 + 4 + 4 + 9 = 17, times the weight 0.5
    assert content_loss(0.5, current, original).item() == pytest.approx(8.5)
    assert content_loss(0.5, current, current).item() == 0.0
    # gradient w.r.t. the current features: 2 * w * (F - P)
    current.requires_grad_(True)
    content_loss(0.5, current, original).backward()
    assert torch.allclose(current.grad, torch.tensor([[[[0.0, 2.0], [2.0, 3.0]]]]))


def test_style_loss_by_hand_with_per_layer_weights():
    b = torch.tensor([[[[3.0, 4.0]]]])  # 1x1x1x2: normalised Gram = (9 + 16) / 2 = 12.5
    feats = {"a": F, "b": b}
    targets = [torch.zeros(1, 2, 2), torch.tensor([[[10.5]]])]
    # layer a: 3.75^2 + 2 * 0.25^2 + 0.25^2 = 14.0625 + 0.125 + 0.0625 = 14.25, weight 2 -> 28.5
    # layer b: (12.5 - 10.5)^2 = 4, weight 0.25 -> 1
    assert style_loss(feats, ["a", "b"], targets, [2.0, 0.25]).item() == pytest.approx(29.5)
    assert style_loss(feats, ["a", "b"], targets, [0.0, 0.25]).item() == pytest.approx(1.0)
    assert style_loss(feats, ["a", "b"], targets, [2.0, 0.0]).item() == pytest.approx(28.5)
    assert style_loss(feats, ["b"], targets[1:], [1.0]).item() == pytest.approx(4.0)
    # features that match their targets cost nothing
    assert style_loss(feats, ["a", "b"], [gram_matrix(F), gram_matrix(b)], [5.0, 5.0]).item() == 0.0


def test_style_loss_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        style_loss({"a": F}, ["a"], [gram_matrix(F)], [1.0, 2.0])


def test_tv_loss_by_hand():
    img = torch.tensor([[[[1.0, 2.0, 4.0], [0.0, 2.0, 7.0]]]])
    # vertical: -1, 0, 3 -> 10; horizontal: 1, 2, 2, 5 -> 34; total 44, times 0.5
    assert tv_loss(img, 0.5).item() == pytest.approx(22.0)
    assert tv_loss(torch.full((1, 3, 4, 5), 7.0), 1.0).item() == 0.0
    # channels add up: the same picture in three channels costs three times as much
    assert tv_loss(img.repeat(1, 3, 1, 1), 0.5).item() == pytest.approx(66.0)


def test_total_loss_by_hand():
    c, s, t = torch.tensor(2.0), torch.tensor(3.0), torch.tensor(5.0)
    assert seed_total_loss(c, s, t).item() == 10.0
    assert seed_total_loss(c, s, t, alpha=1.0, beta=10.0, gamma=100.0).item() == pytest.approx(532.0)
    assert seed_total_loss(c, s, t, alpha=0.0, beta=0.0, gamma=2.0).item() == pytest.approx(10.0)


def _double(*shape: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_(True)


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_matrix_gradcheck(normalize):
    assert gradcheck(lambda f: gram_matrix(f, normalize=normalize), (_double(2, 3, 4, 5),))


def test_gram_matrix_gradcheck_channels_last():
    """bf16 runs hand the Gram channels-last features; value and gradient must not depend on layout."""
    features = _double(2, 3, 4, 5).detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)
    assert gradcheck(gram_matrix, (features,))
    plain = features.detach().contiguous().requires_grad_(True)
    torch.testing.assert_close(gram_matrix(features), gram_matrix(plain))
    gram_matrix(features).pow(2).sum().backward()
    gram_matrix(plain).pow(2).sum().backward()
    assert features.grad.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(features.grad, plain.grad)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_gram_matrix_of_bf16_features_is_float32_in_chunks(monkeypatch, layout):
    """bf16 features are taken to float32 piece by piece; the result must equal one float32 product."""
    from brushwork.model import losses

    monkeypatch.setattr(losses, "_chunk", lambda features: 7)  # 24 positions: 4 chunks, the last short
    features = torch.randn(2, 5, 6, 4).bfloat16().contiguous(memory_format=layout).requires_grad_(True)
    exact = features.detach().double().requires_grad_(True)
    gram = gram_matrix(features)
    assert gram.dtype == torch.float32
    torch.testing.assert_close(gram.double(), gram_matrix(exact), rtol=1e-6, atol=1e-7)
    weights = torch.randn(2, 5, 5, dtype=torch.float64)
    (gram.double() * weights).sum().backward()
    (gram_matrix(exact) * weights).sum().backward()
    assert features.grad.dtype == torch.bfloat16 and features.grad.is_contiguous(memory_format=layout)
    torch.testing.assert_close(features.grad.double(), exact.grad, rtol=1e-2, atol=1e-2)


def test_gram_matrix_stays_float32_under_autocast():
    features = torch.randn(1, 4, 5, 6).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        gram = gram_matrix(features)
        low = gram_matrix(features.bfloat16())
    assert gram.dtype == low.dtype == torch.float32
    torch.testing.assert_close(gram, gram_matrix(features.detach()))
    gram.sum().backward()
    assert features.grad.dtype == torch.float32


def test_content_loss_gradcheck():
    target = _double(1, 4, 3, 3, seed=1).detach()
    assert gradcheck(lambda f: content_loss(0.7, f, target), (_double(1, 4, 3, 3),))


def test_style_loss_gradcheck():
    targets = [gram_matrix(_double(1, 3, 4, 4, seed=2)).detach(), gram_matrix(_double(1, 5, 2, 2, seed=3)).detach()]

    def loss(a, b):
        return style_loss({"a": a, "b": b, "unused": a}, ["a", "b"], targets, [0.3, 1.7])

    assert gradcheck(loss, (_double(1, 3, 4, 4, seed=4), _double(1, 5, 2, 2, seed=5)))


def test_tv_loss_gradcheck():
    assert gradcheck(lambda img: tv_loss(img, 0.25), (_double(1, 3, 5, 6),))


def test_total_loss_gradcheck():
    target = _double(1, 2, 3, 3, seed=6).detach()
    style_target = [gram_matrix(_double(1, 2, 3, 3, seed=7)).detach()]

    def objective(img):
        c = content_loss(0.5, img[:, :2], target)
        s = style_loss({"x": img[:, :2]}, ["x"], style_target, [2.0])
        return seed_total_loss(c, s, tv_loss(img, 0.1), alpha=1.5, beta=10.0, gamma=3.0)

    assert gradcheck(objective, (_double(1, 3, 3, 3, seed=8),))


# -- the sliced-Wasserstein term ----------------------------------------------------------------------


def _directions(channels: int, count: int = 16, seed: int = 0) -> torch.Tensor:
    d = torch.randn(channels, count, generator=torch.Generator().manual_seed(seed))
    return d / d.norm(dim=0, keepdim=True)


def test_sliced_wasserstein_is_zero_for_the_same_cloud_in_any_order():
    cloud = torch.randn(200, 8, generator=torch.Generator().manual_seed(1))
    shuffled = cloud[torch.randperm(200, generator=torch.Generator().manual_seed(2))]
    assert float(sliced_wasserstein_loss(shuffled, cloud, _directions(8))) == pytest.approx(0.0, abs=1e-10)


def test_sliced_wasserstein_by_hand_in_one_dimension():
    """One direction: sorted values are paired; the loss is their mean squared gap over the target's variance."""
    mine, theirs = torch.tensor([[3.0], [1.0], [2.0]]), torch.tensor([[2.0], [4.0], [3.0]])
    expected = ((1 - 2) ** 2 + (2 - 3) ** 2 + (3 - 4) ** 2) / 3 / torch.tensor([2.0, 3.0, 4.0]).var(correction=0)
    assert float(sliced_wasserstein_loss(mine, theirs, torch.ones(1, 1))) == pytest.approx(float(expected))


def test_sliced_wasserstein_of_a_one_point_picture_is_finite():
    """A picture a few pixels small has one position at relu5_1: the spread is the painting's, of all its points."""
    theirs = torch.tensor([[2.0], [4.0], [3.0]])
    loss = sliced_wasserstein_loss(torch.tensor([[5.0]]), theirs, torch.ones(1, 1))
    assert float(loss) == pytest.approx((5 - 3) ** 2 / float(theirs.var(correction=0)))


def test_sliced_wasserstein_sees_more_than_the_gram_matrix():
    """Two clouds with equal second moments (so equal Gram matrices) but different shapes are told apart."""
    gen = torch.Generator().manual_seed(3)
    normal = torch.randn(4000, 2, generator=gen)
    signs = torch.randint(0, 2, (4000, 2), generator=gen) * 2.0 - 1.0  # +-1 on each axis: unit variance too
    assert torch.allclose(normal.T @ normal / 4000, signs.T @ signs / 4000, atol=0.1)
    assert float(sliced_wasserstein_loss(normal, signs, _directions(2, 64))) > 0.05


def test_sliced_wasserstein_compares_clouds_of_different_sizes_at_the_same_quantiles():
    gen = torch.Generator().manual_seed(4)
    big = torch.randn(3000, 4, generator=gen)
    assert float(sliced_wasserstein_loss(big[::3], big, _directions(4))) < 0.02  # a sample of the same cloud


def test_sliced_wasserstein_gradient_moves_points_towards_the_target():
    gen = torch.Generator().manual_seed(5)
    target = torch.randn(500, 6, generator=gen) * 2 + 1
    points = torch.randn(500, 6, generator=gen).requires_grad_(True)
    before = float(sliced_wasserstein_loss(points.detach(), target, _directions(6)))
    for _ in range(50):
        loss = sliced_wasserstein_loss(points, target, _directions(6, seed=_ + 10))
        (grad,) = torch.autograd.grad(loss, points)
        with torch.no_grad():
            points -= 2000 * grad
    assert float(sliced_wasserstein_loss(points.detach(), target, _directions(6))) < before / 10


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_guided_grams_are_each_regions_guided_gram_sum_with_its_gradient(layout):
    """Regions at once, each over its mask's box: the sums and the gradient of one region at a time."""
    torch.manual_seed(0)
    features = torch.rand(1, 5, 9, 12, dtype=torch.float64).contiguous(memory_format=layout)
    left = torch.zeros(1, 1, 9, 12, dtype=torch.float64)
    left[..., :7] = 1.0
    left[..., 5:7] = 0.5  # a soft edge, shared with the right region
    right = 1 - left
    right[..., :2, :] = 0.0  # a box smaller than the picture in both directions
    empty = torch.zeros_like(left)  # a region this layer does not see
    masks = [left, right, empty]
    weights = torch.rand(3, 5, 5, dtype=torch.float64)

    def by_region(f: torch.Tensor) -> torch.Tensor:
        return sum((w * guided_gram_sum(f, m)).sum() for w, m in zip(weights, masks))

    def at_once(f: torch.Tensor) -> torch.Tensor:
        return (weights * guided_grams(f, [Guide.of(m) for m in masks])).sum()

    a, b = features.clone().requires_grad_(True), features.clone().requires_grad_(True)
    by_region(a).backward()
    at_once(b).backward()
    assert float(at_once(features)) == pytest.approx(float(by_region(features)), rel=1e-12)
    assert torch.allclose(a.grad, b.grad, rtol=1e-10, atol=1e-12)
    assert Guide.of(empty).box is None and Guide.of(right).box == (slice(2, 9), slice(5, 12))
