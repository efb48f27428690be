"""What a plan knows of the machine a run happens on: its memory and its measured speed (plain Python).

:mod:`brushwork.model.device` measures these figures on the machine itself; :mod:`brushwork.planning.run_plan`
plans from them, so plans can be made (and tested) for machines one does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from brushwork.planning.levels import STEP_COST_EXPONENT

__all__ = ["Machine", "GB", "CALIBRATION", "calibration_side"]

GB = 1024**3
CALIBRATION = 256
"""Side of the square picture whose step :mod:`brushwork.model.device` times to learn this machine's speed: large
enough that a step's cost grows with its pixels from there, small enough to take a second or two."""


def calibration_side(size: int) -> int:
    """The side timed for a run of longest side ``size``: :data:`CALIBRATION`, or the run's own size when smaller
    (at least 64 px): a small run's plan should not take longer than the run."""
    return max(64, min(CALIBRATION, size))


@dataclass(frozen=True)
class Machine:
    """Where the run happens, as the plan needs it."""

    device: str
    """``cpu``, ``cuda`` or ``mps``."""
    name: str
    """For people: the processor or GPU, and the precision."""
    free: int
    """Bytes free for this run now."""
    in_use: int
    """Bytes the process already holds (the network's weights among them)."""
    element: int
    """Bytes of an activation: 2 in bf16, 4 in fp32."""
    step_seconds: float
    """Measured seconds of one step of a ``calibrated`` px square."""
    exponent: float = STEP_COST_EXPONENT
    """A step's cost grows as pixels to this power."""
    calibrated: int = CALIBRATION
    """Side of the square whose step was timed (:func:`calibration_side`)."""
