"""Shared fixtures: the example pictures and one VGG19 per test process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# Tests run as several processes (pytest -n 2) on a 2-core machine: one thread each avoids
# oversubscription, which made runs ~10x slower.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "brushwork" / "examples"
TUBINGEN = EXAMPLES / "content" / "tubingen.jpg"
STARRY_NIGHT = EXAMPLES / "style" / "starry_night.jpg"
WAVE = EXAMPLES / "style" / "wave.jpg"


@pytest.fixture(scope="session")
def encoder():
    """The Caffe VGG19 (max pooling, CPU), loaded once per test process."""
    from brushwork.model.network import load_vgg19

    return load_vgg19()


@pytest.fixture(scope="session")
def pictures():
    """tubingen, starry_night and wave as :class:`~brushwork.media.images.Picture`, shrunk to 128 px for speed."""
    from brushwork.media.images import Picture, load_image, resize_longest

    return {
        name: Picture(resize_longest(load_image(path).rgb, 128), None, path.name)
        for name, path in (("tubingen", TUBINGEN), ("starry_night", STARRY_NIGHT), ("wave", WAVE))
    }


@pytest.fixture(scope="session")
def tubingen() -> Path:
    return TUBINGEN


@pytest.fixture(scope="session")
def starry_night() -> Path:
    return STARRY_NIGHT


@pytest.fixture(scope="session")
def wave() -> Path:
    return WAVE
