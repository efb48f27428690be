"""L-BFGS that never waits for the GPU: a fixed history on the device and no Python branch on a tensor's value.

torch's :class:`torch.optim.LBFGS` reads tensors back to the host several times a step (its stopping tests, its
curvature check), and each read stalls the host until the GPU has caught up: at 512 px on a fast card that wait,
not the arithmetic, is most of a step. This is the same method as torch's with ``max_iter=1``, no line search and
no stopping tests (what :mod:`brushwork.engine.runner` asks of it), written so that a step only queues work:

- the history is ``history_size`` pairs kept in preallocated rows, written in turn; a pair whose curvature is
  too small (``y.s <= 1e-10``, which torch leaves out) is written with no weight, so it counts for nothing;
- a step that would climb (``g.d > 1``, where torch stops) is multiplied by zero rather than skipped.

Apart from a pair left out taking the place of the oldest one (rare: it needs a nearly flat direction), its steps
are torch's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["DeviceLBFGS"]

CURVATURE_FLOOR = 1e-10
"""A pair whose ``y.s`` is at most this is left out of the history (as torch does)."""
CLIMB_LIMIT = 1.0
"""A step whose direction's slope ``g.d`` is above this is not taken (torch's ``-tolerance_change``, with the
``tolerance_change=-1`` the runner gives it)."""


class DeviceLBFGS(torch.optim.Optimizer):
    """One L-BFGS step per :meth:`step`, for one parameter tensor, with no host-device synchronisation."""

    def __init__(self, params: list[Tensor], lr: float = 1.0, history_size: int = 100):
        super().__init__(params, {"lr": lr})
        if len(self.param_groups) != 1 or len(self.param_groups[0]["params"]) != 1:
            raise ValueError("DeviceLBFGS optimises one tensor")
        x = self._x
        n = x.numel()
        self.size = history_size
        self.steps_taken = 0
        self.s = x.new_zeros((history_size, n))
        self.y = x.new_zeros((history_size, n))
        self.rho = x.new_zeros(history_size)
        self.h_diag = x.new_ones(())
        self.direction = x.new_zeros(n)
        self.previous_grad = x.new_zeros(n)
        self.previous_t = x.new_zeros(())

    @property
    def _x(self) -> Tensor:
        x: Tensor = self.param_groups[0]["params"][0]
        return x

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor:  # type: ignore[override]
        """Evaluate ``closure`` (loss and gradient), then move along the L-BFGS direction; returns the loss."""
        if closure is None:
            raise ValueError("DeviceLBFGS needs a closure that returns the loss")
        with torch.enable_grad():
            loss = closure()
        x, lr = self._x, float(self.param_groups[0]["lr"])
        assert x.grad is not None
        g = x.grad.reshape(-1)
        if self.steps_taken == 0:
            self.direction = -g
            t = torch.clamp(1.0 / g.abs().sum(), max=1.0) * lr
        else:
            self._remember(g)
            self.direction = self._two_loop(g)
            t = torch.full((), lr, device=x.device)
        slope = g.dot(self.direction)
        t = torch.where(slope > CLIMB_LIMIT, torch.zeros_like(t), t)
        x.add_((self.direction * t).view_as(x))
        self.previous_grad.copy_(g)
        self.previous_t = t
        self.steps_taken += 1
        return loss

    def _remember(self, g: Tensor) -> None:
        """Write the last step's pair into the oldest row; a flat pair gets no weight (see the module)."""
        y = g - self.previous_grad
        s = self.direction * self.previous_t
        ys = y.dot(s)
        kept = ys > CURVATURE_FLOOR
        row = (self.steps_taken - 1) % self.size
        self.y[row].copy_(y)
        self.s[row].copy_(s)
        self.rho[row] = torch.where(kept, 1.0 / torch.where(kept, ys, torch.ones_like(ys)), torch.zeros_like(ys))
        self.h_diag = torch.where(kept, ys / y.dot(y).clamp_min(1e-30), self.h_diag)

    def _two_loop(self, g: Tensor) -> Tensor:
        """The inverse-Hessian estimate times ``-g`` (Nocedal and Wright's two-loop recursion), newest pair first."""
        filled = min(self.steps_taken, self.size)
        newest = (self.steps_taken - 1) % self.size
        rows = [(newest - i) % self.size for i in range(filled)]
        q = -g
        alphas = []
        for row in rows:
            alpha = self.rho[row] * self.s[row].dot(q)
            q = q - alpha * self.y[row]
            alphas.append(alpha)
        r = q * self.h_diag
        for row, alpha in zip(reversed(rows), reversed(alphas)):
            beta = self.rho[row] * self.y[row].dot(r)
            r = r + (alpha - beta) * self.s[row]
        return r
