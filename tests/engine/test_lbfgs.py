"""L-BFGS on the device (for GPUs) against torch's, and a run that reads its losses back only now and then."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from brushwork.core.settings import Settings
from brushwork.engine import runner as engine
from brushwork.engine.lbfgs import DeviceLBFGS

N = 40
GEN = torch.Generator().manual_seed(0)
A = torch.randn(N, N, generator=GEN)
A = A @ A.T / N + 0.1 * torch.eye(N)
B = torch.randn(N, generator=GEN)


def quartic(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x @ A @ x - B @ x + 0.1 * (x**4).sum()


def linear(x: torch.Tensor) -> torch.Tensor:
    return B @ x  # no curvature: every pair is flat and left out


def iterates(make, f, steps: int = 30) -> list[torch.Tensor]:
    x = torch.zeros(N, requires_grad=True)
    optimizer = make([x])
    seen = []
    for _ in range(steps):

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = f(x)
            loss.backward()
            return loss

        optimizer.step(closure)
        seen.append(x.detach().clone())
    return seen


@pytest.mark.parametrize("f", [quartic, linear], ids=["quartic", "linear"])
def test_the_device_step_is_torchs_lbfgs_step(f):
    """torch's L-BFGS as the runner sets it up (one evaluation a step, no stopping tests), with a history of 5
    so that the device's rows are written over several times in 30 steps."""
    theirs = iterates(
        lambda p: torch.optim.LBFGS(p, lr=0.5, max_iter=1, history_size=5, tolerance_grad=-1, tolerance_change=-1), f
    )
    mine = iterates(lambda p: DeviceLBFGS(p, lr=0.5, history_size=5), f)
    for a, b in zip(theirs, mine):
        assert float((a - b).abs().max()) <= 1e-5 * max(1.0, float(a.abs().max()))
    assert float(f(mine[-1])) < float(f(mine[0]))  # downhill, both


def test_device_lbfgs_takes_one_tensor_and_a_closure():
    with pytest.raises(ValueError, match="one tensor"):
        DeviceLBFGS([torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="closure"):
        DeviceLBFGS([torch.zeros(2, requires_grad=True)]).step()


@pytest.fixture
def queued(monkeypatch):
    """The GPU's way on this CPU: L-BFGS on the device, losses read every READ_EVERY steps."""
    monkeypatch.setattr(engine, "stalls_on_reads", lambda device: True)


def small(**changes) -> Settings:
    return Settings(size=64, device="cpu", scales=1, tolerance=0.0, **{"layer_reach": 0.0, **changes})


@pytest.mark.slow
def test_a_run_that_reads_its_losses_now_and_then_paints_the_same_picture(pictures, monkeypatch):
    photo, painting = pictures["tubingen"], [pictures["starry_night"]]
    # no random draws: the two runs see the same losses; brushwork 0.2's strength, where they agree to 0.1%
    # (in fp32: bf16 rounding, which differs from CPU to CPU, parts two runs of L-BFGS by 0.2% in 20 steps)
    settings = small(steps=20, swd_weight=0, style_weight=10.0, style_balance=0.0, precision="fp32")
    plain = engine.run(photo, painting, settings)
    monkeypatch.setattr(engine, "stalls_on_reads", lambda device: True)
    steps: list[tuple[int, float]] = []
    queued = engine.run(photo, painting, settings, callback=lambda p: steps.append((p.step, p.losses["total"])))
    assert queued.status == "done" and queued.steps == plain.steps == 20
    assert [s for s, _ in steps] == list(range(1, 21))  # the callback still hears of every step
    read = [s for s, total in steps if s == 1 or total != steps[s - 2][1]]
    assert read == [1, 9, 17, 20]  # the first step's losses at once, then every eighth, and the level's last
    assert len(queued.history) == 20 and queued.history[-1][1] == pytest.approx(plain.history[-1][1], rel=1e-3)
    a, b = (np.asarray(r.image, dtype=float) for r in (plain, queued))
    assert np.abs(a - b).mean() < 1.0


@pytest.mark.slow
def test_a_queued_run_that_diverges_keeps_its_last_good_picture_and_cancels(pictures, queued):
    settings = small(steps=20, lr_schedule=((3, 255.0),))
    result = engine.run(pictures["tubingen"], [pictures["starry_night"]], settings)
    assert result.status == "diverged" and not math.isfinite(result.history[-1][1])
    assert np.asarray(result.image, dtype=float).std() > 20  # a picture, not NaN turned black
    stopped = engine.run(
        pictures["tubingen"], [pictures["starry_night"]], small(steps=20), callback=lambda p: p.step < 5
    )
    assert stopped.status == "cancelled" and stopped.steps == 5
