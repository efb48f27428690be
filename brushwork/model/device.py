"""Where a run happens: the device, its precision, the network on it, and what the device can give a run.

:func:`measure` describes the machine for :func:`brushwork.planning.run_plan.plan_run`: free memory (RAM, or
the GPU's), what the process already holds, and the seconds of one step at a small size, timed
here (once per process and kind of run), so that the plan's times are this machine's.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import time
import weakref
from collections.abc import Iterator
from typing import Any

import psutil
import torch

from brushwork.core.errors import OutOfMemory, SettingsError
from brushwork.core.settings import Settings
from brushwork.core.words import count
from brushwork.model.network import VGG19, channels_last, load_vgg19
from brushwork.model.objective import Objective
from brushwork.model.terms import TERMS
from brushwork.planning.levels import STEP_COST_EXPONENT
from brushwork.planning.machine import Machine, calibration_side

__all__ = [
    "pick_device",
    "encoder_for",
    "use_bf16",
    "emulated_bf16",
    "measure",
    "describe_processor",
    "cpu_info",
    "held_to_plan",
    "benchmarked",
    "out_of_memory_worded",
    "PLAN_SLACK",
]

PLAN_SLACK = 1.15
"""On a GPU, a run may reserve at most this many times the memory its plan says it needs."""


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` takes CUDA, then Apple MPS, then the CPU; an unavailable choice is a clear error."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise SettingsError(f"{name} is not available on this machine; use cpu or auto", "device")
    return torch.device(name)


@functools.lru_cache(maxsize=2)
def _cached_encoder(weights: str | None, pooling: str, device: str, channels_last: bool) -> VGG19:
    encoder = load_vgg19(weights, pooling).to(device)
    return encoder.to(memory_format=torch.channels_last) if channels_last else encoder  # type: ignore[call-overload]


def encoder_for(settings: Settings, device: torch.device) -> VGG19:
    """The VGG19 for these settings, loaded once per process and device."""
    return _cached_encoder(
        settings.weights, settings.pooling, str(device), channels_last(use_bf16(settings, device), device)
    )


@functools.lru_cache(maxsize=1)
def cpu_info() -> tuple[str, set[str]]:
    """The CPU's model name and its flags, from ``/proc/cpuinfo`` (empty where there is none)."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return model, flags


def _cpu_has_bf16() -> bool:
    return bool({"avx512_bf16", "amx_bf16"} & cpu_info()[1])


def emulated_bf16(settings: Settings, device: torch.device) -> bool:
    """Whether bf16 was asked for on a CPU without bf16 instructions, which emulates it many times slower than fp32."""
    return settings.precision == "bf16" and device.type == "cpu" and not _cpu_has_bf16()


def use_bf16(settings: Settings, device: torch.device) -> bool:
    """bf16 autocast where it is fast: CUDA with bf16 support, or CPUs with AVX512-BF16/AMX."""
    if settings.precision != "auto":
        return settings.precision == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and _cpu_has_bf16()


def measure(settings: Settings, device: torch.device, encoder: VGG19) -> Machine:
    """This machine as the plan needs it: free memory now, and the measured time of a step."""
    bf16 = use_bf16(settings, device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        in_use = torch.cuda.memory_allocated(device)  # the allocator's cached blocks are free for this run
        free += torch.cuda.memory_reserved(device) - in_use
        name = torch.cuda.get_device_name(device)
    else:
        free, in_use, name = psutil.virtual_memory().available, psutil.Process().memory_info().rss, describe_processor()
    exponent = 1.0 if device.type == "cpu" and not bf16 else STEP_COST_EXPONENT  # see forecast.StepTimer
    side = calibration_side(settings.size)
    return Machine(
        device=device.type,
        name=f"{name}, {'bf16' if bf16 else 'fp32'}",
        free=int(free),
        in_use=int(in_use),
        element=2 if bf16 else 4,
        step_seconds=_step_seconds(_timed(settings), bf16, weakref.ref(encoder), side),
        exponent=exponent,
        calibrated=side,
    )


def _timed(settings: Settings) -> Settings:
    """The settings a step is timed with: the run's layers and terms (each registered term on or off), at the
    defaults' weights, so that runs that differ only in weights share one timing."""
    off: dict[str, Any] = {term.setting: 0.0 for term in TERMS if not getattr(settings, term.setting)}
    return Settings(content_layers=settings.content_layers, style_layers=settings.style_layers, **off)


@functools.lru_cache(maxsize=8)
def _step_seconds(settings: Settings, bf16: bool, network: weakref.ref[VGG19], side: int) -> float:
    """Seconds of one step of a ``side`` px square (the best of two, after a warm-up). The network is known by a
    weak reference: the cache must not keep up to 8 of them alive (the encoders' own cache keeps 2)."""
    encoder = network()
    assert encoder is not None  # the caller holds it
    device = encoder.mean.device
    generator = torch.Generator().manual_seed(0)
    photo, painting, start = (torch.rand(1, 3, side, side, generator=generator).to(device) * 255 for _ in range(3))
    objective = Objective(encoder, photo, [painting], [1.0], settings, bf16)
    x = start.requires_grad_(True)
    times = []
    for _ in range(3):
        x.grad = None
        begin = time.perf_counter()
        objective.evaluate(x, grad=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - begin)
    return min(times[1:])


def describe_processor() -> str:
    """The CPU's model and vector extensions, as a speed claim must name them."""
    model = platform.processor() or platform.machine()
    named, flags = cpu_info()
    if model in ("", platform.machine(), "x86_64") and named:
        model = named
    extension = (
        "AVX512-BF16"
        if "avx512_bf16" in flags
        else "AVX512"
        if "avx512f" in flags
        else "AVX2"
        if "avx2" in flags
        else ""
    )
    threads = torch.get_num_threads()
    return f"{model}{f' ({extension})' if extension else ''}, {count(threads, 'thread')}"


@contextlib.contextmanager
def held_to_plan(device: torch.device, planned_bytes: int) -> Iterator[bool]:
    """On a GPU, hold PyTorch's memory to the plan's peak (times :data:`PLAN_SLACK`) while the block lasts; yields
    whether it did (never on a CPU).

    Left free, cuDNN's algorithm search tries the fastest convolutions with whatever workspace the card has (130
    GiB reserved for a run planned at 30 GiB on an H200), which on a shared card is someone else's out-of-memory
    error. Held, an algorithm whose workspace does not fit is passed over for the next one, and cached blocks are
    given back before memory is asked of the card. One run at a time per process and card.
    """
    if device.type != "cuda":
        yield False
        return
    index = device.index if device.index is not None else torch.cuda.current_device()
    total = torch.cuda.get_device_properties(index).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, planned_bytes * PLAN_SLACK / total), index)
    try:
        yield True
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, index)


@contextlib.contextmanager
def benchmarked(device: torch.device) -> Iterator[None]:
    """On a GPU, let cuDNN time its convolution algorithms while the block lasts (a level runs one input shape
    hundreds of times), and give the calling program's own choice back after it."""
    mine = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = mine or device.type == "cuda"
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = mine


@contextlib.contextmanager
def out_of_memory_worded() -> Iterator[None]:
    """Python's ``MemoryError`` and a GPU's out-of-memory error (CUDA's own class, MPS's ``RuntimeError``) as one
    :class:`~brushwork.core.errors.OutOfMemory`, which every front door words like any other error."""
    try:
        yield
    except (MemoryError, torch.OutOfMemoryError) as exc:
        raise OutOfMemory() from exc
    except RuntimeError as exc:
        if "out of memory" not in str(exc).lower():
            raise
        raise OutOfMemory() from exc
