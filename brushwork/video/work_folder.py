"""A clip's work folder, ``OUT.frames/``: what its frames were painted from, claiming it, and what each
frame's recipe holds.

Each finished frame is written there (atomically, with its recipe) the moment it is done, so a stopped run loses
nothing: the same command skips the frames already there, and the clip can always be assembled again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from brushwork import __version__
from brushwork.core.errors import ImageError, OutputExistsError
from brushwork.core.settings import Settings, VideoSettings
from brushwork.engine.recipes import header, input_record
from brushwork.media.clips import ClipInfo
from brushwork.media.files import file_sha256, write_atomically
from brushwork.media.images import Picture
from brushwork.media.masks import Regions
from brushwork.video.timeline import painted_positions

RECIPE = "recipe.json"
FRAMES = "frame_*.png"
"""The painted frames in a work folder (or a segment's): :func:`frame_file`'s names."""


def frame_file(position: int) -> str:
    """The name of the painted frame at ``position`` in the clip."""
    return f"frame_{position:06d}.png"


def work_folder(output: Path) -> Path:
    """Where a clip's painted frames are kept: ``OUT.frames/`` beside ``OUT``."""
    return output.with_name(output.name + ".frames")


def fingerprint_of(
    clip: ClipInfo, styles: Sequence[Picture], settings: Settings, video: VideoSettings, regions: Regions | None = None
) -> dict[str, Any]:
    """What must match for frames in a work folder to be this run's: settings and every input's bytes (the
    regions' masks, a start picture and your own weights included)."""
    unused = {"start", "end"} | ({"later_steps"} if video.temporal_weight == 0 else set())  # frames painted alone

    return {
        "brushwork": __version__,
        "settings": settings.to_dict(),
        "video": {k: v for k, v in video.to_dict().items() if k not in unused},
        "clip": file_sha256(clip.path, "clip"),
        "styles": [_painting_digest(s) for s in styles],
        **({"regions": _region_digests(regions)} if regions is not None else {}),
        **({"files": {role: file_sha256(path, role) for role, path in settings.files()}} if settings.files() else {}),
    }


def _painting_digest(painting: Picture) -> str:
    """A painting's pixels' SHA-256, its transparency's included (what is transparent is not learnt from)."""
    digest = hashlib.sha256(np.asarray(painting.rgb).tobytes())
    if painting.alpha is not None:  # none: the digest of an opaque painting's own pixels, as it always was
        digest.update(np.asarray(painting.alpha).tobytes())
    return digest.hexdigest()


def _region_digests(regions: Regions) -> dict[str, list[str]]:
    """The masks' digests, by role: one per painting's mask, the keep mask, and the paintings' own masks."""
    masks = {"mask": list(regions.paint or ()), "keep": [regions.keep] if regions.keep is not None else []}
    sources = [m for m in regions.sources if m is not None]
    masks |= {"painting mask": sources} if sources else {}  # absent before there were any: old folders still match
    return {role: [hashlib.sha256(m.tobytes()).hexdigest() for m in found] for role, found in masks.items()}


def frames_kept(
    output: Path,
    clip: ClipInfo,
    styles: Sequence[Picture],
    settings: Settings,
    video: VideoSettings,
    regions: Regions | None = None,
) -> int:
    """How many of the frames to paint an earlier, stopped run of the same inputs and settings left in the work
    folder (the same call goes on from them)."""
    work = work_folder(output)
    if _kept_fingerprint(work) != fingerprint_of(clip, styles, settings, video, regions):
        return 0
    return sum(_whole(work / frame_file(p)) for p in painted_positions(clip, video))


def kept_frame(path: Path) -> Image.Image | None:
    """The frame an earlier run of the same clip finished at ``path``, or None where there is none or it is not
    whole (cut short by a full disk, say): that frame is painted again, and :func:`frames_kept` does not count it."""
    if not _whole(path):
        return None
    try:
        with Image.open(path) as picture:
            return picture.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _whole(path: Path) -> bool:
    """Whether the picture file at ``path`` is there and whole (its chunks' checksums read, none decoded)."""
    try:
        with Image.open(path) as picture:
            picture.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _kept_fingerprint(work: Path) -> dict[str, Any] | None:
    """What the frames in a work folder were painted from (None: no readable record)."""
    try:
        kept = json.loads((work / RECIPE).read_text())
    except (OSError, ValueError):
        return None
    return kept if isinstance(kept, dict) else None


def check_unclaimed(work: Path, fingerprint: dict[str, Any], overwrite: bool) -> None:
    """Refuse, before any work (the plan included), what :func:`claim` would: a file where the work folder goes,
    or a folder holding frames painted from other inputs or settings (unless ``overwrite``)."""
    if work.exists() and not work.is_dir():
        raise ImageError(f"{work} is a file; the painted frames go in a folder of that name: move the file")
    recipe = work / RECIPE
    painted = work.is_dir() and (any(work.glob(FRAMES)) or any(work.glob(f"segment_*/{FRAMES}")))
    if overwrite or not painted:
        return
    if not recipe.exists():
        raise OutputExistsError(work, f" and holds frames without its {RECIPE}, so not known to be this run's")
    if _kept_fingerprint(work) != fingerprint:
        raise OutputExistsError(work, " and holds frames painted from other inputs or settings")


def claim(work: Path, fingerprint: dict[str, Any], overwrite: bool) -> None:
    """Make or reuse the work folder; one holding another run's frames is refused rather than mixed (or, with
    ``overwrite``, emptied)."""
    check_unclaimed(work, fingerprint, overwrite)
    recipe = work / RECIPE
    try:
        work.mkdir(exist_ok=True)
        if _kept_fingerprint(work) != fingerprint:  # overwritten, or stopped before its first frame (nothing to keep)
            for old in [*work.glob(FRAMES), *work.glob(f"unfinished_{FRAMES}")]:
                old.unlink()
            for segmenting in work.glob("segment*"):  # a clip in segments: theirs, and their layout
                if segmenting.is_dir():
                    shutil.rmtree(segmenting)
                else:
                    segmenting.unlink()
            recipe.unlink(missing_ok=True)
        if not recipe.exists():
            write_atomically(recipe, json.dumps(fingerprint, indent=1, sort_keys=True).encode())
    except OSError as exc:  # a full disk, say: the frames already there stay
        raise ImageError(f"cannot write {recipe}: {exc.strerror or exc}; free some space and run again") from None


def _inputs_of(
    clip: ClipInfo, styles: Sequence[Picture], settings: Settings, fingerprint: dict
) -> list[dict[str, str]]:
    """A frame's inputs as its work folder's record hashed them: the clip and the files the settings name by path
    and SHA-256, the paintings and masks by their pixels'."""

    def described(role: str, path: Path, digest: str) -> dict[str, str]:
        return input_record(role, path.name, str(path.resolve()), digest)

    inputs = [described("clip", clip.path, fingerprint["clip"])]
    inputs += [{"role": "style", "name": s.name, "pixels_sha256": h} for s, h in zip(styles, fingerprint["styles"])]
    masks = fingerprint.get("regions", {})
    inputs += [{"role": role, "pixels_sha256": h} for role, found in masks.items() for h in found]
    return inputs + [described(role, path, fingerprint["files"][role]) for role, path in settings.files()]


def frame_recipe(
    settings: Settings, video: VideoSettings, clip: ClipInfo, styles: Sequence[Picture], fingerprint: dict
) -> dict[str, Any]:
    """What every painted frame's recipe holds besides its position and time (``fingerprint``: the work folder's
    record, :func:`fingerprint_of`)."""
    return {
        **header(settings),
        "video": video.to_dict(),
        "inputs": _inputs_of(clip, styles, settings, fingerprint),
    }
