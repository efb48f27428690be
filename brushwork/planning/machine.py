"""What a plan knows of the machine a run happens on: its memory and its measured speed (plain Python).

:mod:`brushwork.model.device` measures these figures on the machine itself; :mod:`brushwork.planning.run_plan`
plans from them, so plans can be made (and tested) for machines one does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from brushwork.planning.levels import STEP_COST_EXPONENT

__all__ = ["Machine", "GB", "CALIBRATION"]

GB = 1024**3
CALIBRATION = (256, 256)
"""Size of the step :mod:`brushwork.model.device` times to learn this machine's speed."""


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
    """Measured seconds of one step at :data:`CALIBRATION` px."""
    exponent: float = STEP_COST_EXPONENT
    """A step's cost grows as pixels to this power."""
