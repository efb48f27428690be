"""Shared fixtures: the example pictures and one VGG19 per test process."""

from __future__ import annotations

import os
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


@pytest.fixture
def ctrl_c_burst(monkeypatch):
    """``press(module)``: a burst of real Ctrl-C on the run ``module`` calls (its ``run``), one once the run's
    second step is done and another while the run builds its picture so far, before any save."""
    import signal

    from brushwork.engine import runner

    def press(module) -> None:
        real_run, real_picture = module.run, runner._Run._picture

        def pressed_at_step_2(content, styles, settings, *, callback=None, **kwargs):
            def pressed(p):
                if callback is not None and callback(p) is False:
                    return False
                if p.step == 2:
                    os.kill(os.getpid(), signal.SIGINT)  # delivered at once, in the main thread
                return None

            return real_run(content, styles, settings, callback=pressed, **kwargs)

        def pressed_again(self, best):
            os.kill(os.getpid(), signal.SIGINT)
            return real_picture(self, best)

        monkeypatch.setattr(module, "run", pressed_at_step_2)
        monkeypatch.setattr(runner._Run, "_picture", pressed_again)

    return press
