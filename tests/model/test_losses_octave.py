"""The MATLAB-language losses in ``matlab/`` against :mod:`brushwork.model.losses`, in float64.

They run in GNU Octave (``octave-cli``), one process per test. Without Octave the
tests are skipped, except when ``CI`` is set: CI installs Octave
(``apt-get install -y --no-install-recommends octave``), so there they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.model import losses

pytestmark = pytest.mark.octave

ROOT = Path(__file__).resolve().parents[2]
MATLAB_DIR = ROOT / "matlab"
RTOL = 1e-9
WEIGHTS = dict(content_weight=0.05, tv_weight=2e-3, alpha=1.0, beta=1e3, gamma=0.5)


@pytest.fixture(scope="module")
def octave() -> str:
    exe = shutil.which("octave-cli")
    if exe is None:
        reason = "octave-cli is not on PATH (apt-get install -y --no-install-recommends octave)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must install it")
        pytest.skip(reason)
    return exe


def run_octave(octave: str, args: list[str], cwd: Path) -> str:
    proc = subprocess.run([octave, "--no-gui", "--norc", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def check(name: str, got: np.ndarray, want: torch.Tensor) -> None:
    """Elementwise relative difference; ``got`` holds Octave's values in column-major order."""
    want = want.detach().numpy()
    got = np.asarray(got, dtype=float).reshape(want.shape, order="F")
    rel = np.max(np.abs(got - want) / np.maximum(np.abs(want), np.finfo(float).tiny))
    print(f"{name}: max relative difference Octave vs Python {rel:.3g}")
    assert rel <= RTOL, name


def python_losses(case: dict) -> dict[str, torch.Tensor]:
    """Reference values of one case (see :func:`octave_lines`) from brushwork.model.losses."""
    feats = {str(i): torch.from_numpy(f)[None] for i, f in enumerate(case["feats"])}
    out = {f"gram{i}": losses.gram_matrix(f)[0] for i, f in feats.items()}
    out["content"] = losses.content_loss(
        WEIGHTS["content_weight"], feats[str(case["content"])], torch.from_numpy(case["content_target"])[None]
    )
    out["style"] = losses.style_loss(
        feats,
        [str(i) for i in case["style"]],
        [torch.from_numpy(a) for a in case["style_targets"]],
        case["style_weights"],
    )
    out["tv"] = losses.tv_loss(torch.from_numpy(case["img"])[None], WEIGHTS["tv_weight"])
    out["total"] = losses.seed_total_loss(
        out["content"], out["style"], out["tv"], WEIGHTS["alpha"], WEIGHTS["beta"], WEIGHTS["gamma"]
    )
    return out


def octave_lines(case: dict, key: str, tmp_path: Path) -> list[str]:
    """Octave statements that load one case and print the results as ``R <key>.<name> <values>``.

    A case is: ``feats`` (C x H x W arrays, one per layer), ``content`` (index of the
    content layer), ``content_target``, ``style`` (indices of the style layers),
    ``style_targets`` (C x C Gram matrices), ``style_weights`` and ``img`` (3 x H x W).
    """

    def load(name: str, array: np.ndarray) -> str:
        # Column-major bytes: after fread + reshape, Octave's x(c,h,w) is array[c-1, h-1, w-1].
        path = tmp_path / f"{key}_{name}.bin"
        path.write_bytes(np.asarray(array, dtype="<f8").tobytes(order="F"))
        return f"reshape(fread(fopen('{path}'), Inf, 'float64', 0, 'ieee-le'), {list(array.shape)})"

    def cell(name: str, arrays: list[np.ndarray]) -> str:
        return "{" + ", ".join(load(f"{name}{i}", a) for i, a in enumerate(arrays)) + "}"

    style_layers = " ".join(str(i + 1) for i in case["style"])
    style_weights = " ".join(repr(float(w)) for w in case["style_weights"])
    lines = [
        f"feats = {cell('f', case['feats'])};",
        f"c = content_loss({WEIGHTS['content_weight']!r}, feats{{{case['content'] + 1}}}, "
        f"{load('p', case['content_target'])});",
        f"s = style_loss(feats, [{style_layers}], {cell('a', case['style_targets'])}, [{style_weights}]);",
        f"t = tv_loss({load('img', case['img'])}, {WEIGHTS['tv_weight']!r});",
        f"total = {WEIGHTS['alpha']!r} * c + {WEIGHTS['beta']!r} * s + {WEIGHTS['gamma']!r} * t;",
    ]
    lines += [f"out('{key}.gram{i}', gram_matrix(feats{{{i + 1}}}));" for i in range(len(case["feats"]))]
    lines += [
        f"out('{key}.{name}', {var});"
        for name, var in [("content", "c"), ("style", "s"), ("tv", "t"), ("total", "total")]
    ]
    return lines


def compare_cases(octave: str, tmp_path: Path, cases: list[dict]) -> None:
    """Run all cases in one Octave process and check every result against Python."""
    lines = [f"addpath('{MATLAB_DIR}');", "out = @(name, x) fprintf('R %s %s\\n', name, sprintf('%.17g ', x(:)));"]
    for k, case in enumerate(cases):
        lines += octave_lines(case, f"case{k}", tmp_path) + ["fclose('all');"]
    (tmp_path / "driver.m").write_text("\n".join(lines) + "\n")
    stdout = run_octave(octave, ["driver.m"], tmp_path)
    got = {
        key: np.array(values.split(), dtype=float)
        for _, key, values in (line.split(" ", 2) for line in stdout.splitlines() if line.startswith("R "))
    }
    for k, case in enumerate(cases):
        for name, want in python_losses(case).items():
            check(f"case{k}.{name}", got[f"case{k}.{name}"], want)


def random_case(rng: np.random.Generator, shapes: list[tuple[int, int, int]], img_hw: tuple[int, int]) -> dict:
    # Non-negative features, like VGG's ReLU outputs, so no Gram entry is a near-zero cancellation.
    feats = [rng.random(s) for s in shapes]
    style = list(rng.permutation(len(shapes)))
    return dict(
        feats=feats,
        content=1,
        content_target=rng.random(shapes[1]),
        style=style,
        style_targets=[
            losses.gram_matrix(torch.from_numpy(rng.random((shapes[i][0], 5, 4)))[None])[0].numpy() for i in style
        ],
        style_weights=rng.uniform(0.1, 10, len(style)),
        img=rng.uniform(0, 255, (3, *img_hw)),
    )


def test_random_arrays(octave, tmp_path):
    rng = np.random.default_rng(0)
    cases = [
        random_case(rng, [(3, 4, 5), (2, 7, 3), (5, 3, 1)], (7, 5)),
        random_case(rng, [(1, 6, 9), (6, 5, 11), (4, 1, 6), (8, 9, 7)], (1, 4)),
        random_case(rng, [(16, 13, 10), (9, 2, 2)], (6, 1)),
        random_case(rng, [(7, 11, 3), (3, 5, 9)], (9, 13)),
    ]
    compare_cases(octave, tmp_path, cases)


def test_vgg19_features(octave, tmp_path):
    from brushwork.model.network import load_vgg19

    def photo(name: str) -> torch.Tensor:
        """(1, 3, 48, 64) float32 RGB in 0-255."""
        with Image.open(ROOT / "brushwork" / "examples" / "content" / name) as im:
            pixels = np.asarray(im.convert("RGB").resize((64, 48), Image.BICUBIC), dtype=np.float32)
        return torch.from_numpy(pixels).permute(2, 0, 1)[None].contiguous()

    layers = ["conv4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    enc = load_vgg19()
    img = photo("tubingen.jpg")  # the generated image; content and style come from two other photos
    with torch.no_grad():
        gen, content, style = (enc(x, layers) for x in (img, photo("stata.jpg"), photo("chicago.jpg")))
    style_layers = [1, 2, 3, 4]
    case = dict(
        feats=[gen[name][0].double().numpy() for name in layers],
        content=0,
        content_target=content["conv4_2"][0].double().numpy(),
        style=style_layers,
        style_targets=[losses.gram_matrix(style[layers[i]].double())[0].numpy() for i in style_layers],
        style_weights=[1e3, 5e2, 2e2, 1e2],
        img=img[0].double().numpy(),
    )
    compare_cases(octave, tmp_path, [case])


def test_example_script(octave):
    """``example.m`` runs as the README says and prints the Python values for its arrays."""
    stdout = run_octave(octave, ["example.m"], MATLAB_DIR)
    got = {name: float(value) for name, value in (line.split() for line in stdout.splitlines())}

    def pattern(step: int, modulus: int, shape: tuple[int, ...]) -> torch.Tensor:
        """Octave's reshape(mod(step * (1:n), modulus), shape) as a (1, *shape) tensor."""
        n = int(np.prod(shape))
        return torch.from_numpy(np.mod(step * np.arange(1, n + 1.0), modulus).reshape(shape, order="F"))[None]

    feats = {"1": pattern(7, 11, (4, 8, 6)) / 10, "2": pattern(5, 13, (6, 4, 3)) / 10}
    targets = [losses.gram_matrix(pattern(11, 17, (4, 8, 6)) / 10), losses.gram_matrix(pattern(13, 19, (6, 4, 3)) / 10)]
    c = losses.content_loss(5e-2, feats["2"], pattern(3, 7, (6, 4, 3)) / 10)
    s = losses.style_loss(feats, ["1", "2"], targets, [2e2, 5e1])
    t = losses.tv_loss(pattern(37, 256, (3, 8, 6)), 1e-4)
    for name, want in [("content", c), ("style", s), ("tv", t), ("total", losses.seed_total_loss(c, s, t))]:
        check(f"example.{name}", got[name], want)
