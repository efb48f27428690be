"""Jobs on disk: one folder per job under ``DATA/jobs/ID`` with its inputs, its result and ``job.json``.

A picture's result is ``result.png``; a clip's is ``result.mp4``, with its painted frames in
``result.mp4.frames/`` (see :mod:`brushwork.video.work_folder`).

Only server-made ids (uuid4 hex) name folders, and every id is checked against
:data:`JOB_ID` before a path is built from it, and a file is served only if it is one of the data
folder's own (no link), so no request can reach outside the data folder. A data folder the studio
makes is its owner's alone: the photos in it are private. Keeping each job self-contained is what
lets the gallery survive a restart.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from brushwork.core.errors import ImageError
from brushwork.media.files import write_atomically
from brushwork.media.masks import RegionFiles
from brushwork.video.work_folder import FRAMES, work_folder

log = logging.getLogger("brushwork.web")

JOB_ID_PATTERN = "^[0-9a-f]{32}$"
"""A job's id, as uuid4().hex writes it: what the API's paths take."""
JOB_ID = re.compile(JOB_ID_PATTERN)
ACTIVE = ("queued", "running")
FINAL = ("done", "cancelled", "failed")
PICTURES = ("content", "style")
"""The roles of the inputs every job has; the others (``mask``, ``keep``, ``painting mask``) are the masks of its
regions."""
RESULT = "result.png"
CLIP_RESULT = "result.mp4"


@dataclass
class Job:
    """Everything the studio knows about one job; all of it but ``previews`` is saved in ``job.json``."""

    id: str
    settings: dict[str, Any]
    inputs: list[dict[str, str]]
    """``{"role": "content"|"style"|"mask"|"keep"|"painting mask", "name": shown name, "file": file name in the job
    folder}``: the photo, the paintings, then a picture's regions (see :mod:`brushwork.media.masks`), if it has
    any: a mask per painting, in the paintings' order, a keep mask, and a mask per painting of the part of it to
    learn from. A clip's content also has ``"kind": "clip"``, a
    bundled example ``"source"``: its file's name."""
    created: float = field(default_factory=time.time)
    state: str = "queued"
    error: str | None = None
    """Why a failed job failed, in one line."""
    message: str = ""
    step: int = 0
    total: int = 0
    eta: float | None = None
    elapsed: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)
    history: list[float | None] = field(default_factory=list)
    """Total loss after each step (``None`` where it was not finite); a clip's, each frame's steps in turn."""
    started: float | None = None
    finished: float | None = None
    cancel_requested: bool = False
    plan: str = ""
    """The run's plan when the job was accepted (levels, whole or tiled, memory and time), for people."""
    previews: int = 0
    """How many previews were made so far; clients refetch the preview when it changes."""
    video: dict[str, Any] = field(default_factory=dict)
    """A clip's :class:`~brushwork.core.settings.VideoSettings` (empty for a picture)."""
    frames_done: int = 0
    frames_total: int = 0
    client: str = ""
    """The address of the machine that asked for it, which :class:`~brushwork.web.jobs.JobQueue` counts."""

    @property
    def pictures(self) -> list[dict[str, str]]:
        """The photo (or clip) and the paintings, without the regions' masks."""
        return [item for item in self.inputs if item["role"] in PICTURES]

    @property
    def sources(self) -> list[str]:
        """The pictures' file names as the user knows them (an upload's own, an example's file's), content first."""
        return _known_names(self.pictures)

    @property
    def names(self) -> list[str]:
        """Every input's file name as the user knows it, masks included, in the order of :attr:`inputs`, made
        unique (``mask (2).png``, ignoring case): what the recipe of its picture names them, and its bundle calls
        them, so that a rerun finds each file by its name."""
        taken: set[str] = set()
        names = []
        for item, given in zip(self.inputs, _known_names(self.inputs)):
            name = PurePosixPath(given.replace("\\", "/")).name  # a job.json from before names were cleaned
            name = name if name.strip(".") else Path(item["file"]).name
            path, n = PurePosixPath(name), 1
            while name.lower() in taken:
                n += 1
                name = f"{path.stem} ({n}){path.suffix}"
            taken.add(name.lower())
            names.append(name)
        return names

    def regions(self, folder: Path) -> RegionFiles:
        """The masks of the job's regions, in its ``folder`` (none: the paintings cover the whole photo)."""
        return region_files(self.inputs, folder)

    @property
    def kind(self) -> str:
        """``clip`` when the job paints a video, else ``picture``."""
        return "clip" if self.inputs and self.inputs[0].get("kind") == "clip" else "picture"


def _known_names(inputs: list[dict[str, str]]) -> list[str]:
    return [item.get("source", item["name"]) for item in inputs]


def region_files(inputs: list[dict[str, str]], folder: Path) -> RegionFiles:
    """The region masks among a job's input records (see :attr:`Job.inputs`), as files in its ``folder``."""
    return RegionFiles.from_inputs((item["role"], folder / Path(item["file"]).name) for item in inputs)


def check_id(job_id: str) -> str:
    """The id itself if it is a well-formed job id, else ``ValueError``."""
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        raise ValueError(f"{job_id!r} is not a job id")
    return job_id


def make_data_folder(data: Path) -> Path:
    """The data folder and its ``jobs`` folder, each made its owner's alone if it is new (the photos in it are
    private); the ``jobs`` folder."""
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    jobs = data / "jobs"
    jobs.mkdir(mode=0o700, exist_ok=True)
    return jobs


class Store:
    """The job folders under one data folder."""

    def __init__(self, data_dir: Path):
        self.root = make_data_folder(Path(data_dir))
        self.real_root = self.root.resolve()

    def _own(self, path: Path) -> Path | None:
        """``path`` if it is a file of the data folder's own; a link, which could point anywhere on the disk (put
        there by whoever shares or syncs the folder), is not."""
        if not path.is_file() or path.is_symlink() or not path.resolve().is_relative_to(self.real_root):
            return None
        return path

    def folder(self, job_id: str) -> Path:
        return self.root / check_id(job_id)

    @contextmanager
    def draft(self) -> Iterator[tuple[str, Path]]:
        """A fresh job id and its (new, empty) folder, removed again if the block fails: a job refused on the
        way in leaves nothing behind."""
        job_id = uuid.uuid4().hex
        folder = self.folder(job_id)
        folder.mkdir(mode=0o700)
        try:
            yield job_id, folder
        except BaseException:
            self.delete(job_id)
            raise

    def save(self, job: Job) -> None:
        """Write ``job.json`` atomically, so a crash never leaves half a record."""
        data = {k: v for k, v in asdict(job).items() if k != "previews"}
        write_atomically(self.folder(job.id) / "job.json", json.dumps(data).encode())

    def load_all(self) -> list[Job]:
        """Every readable job; unreadable folders are logged and left alone."""
        jobs = []
        known = {f.name for f in fields(Job)}
        for folder in self.root.iterdir():
            if not JOB_ID.fullmatch(folder.name):
                continue
            try:
                data = json.loads((folder / "job.json").read_text())
                job = Job(**{k: v for k, v in data.items() if k in known})
                if job.id != folder.name:
                    raise ValueError("id does not match the folder")
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping job folder %s: %s", folder, exc)
                continue
            jobs.append(job)
        return jobs

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def result(self, job_id: str) -> Path | None:
        """The finished picture or clip, if there is one."""
        for name in (RESULT, CLIP_RESULT):
            if (path := self._own(self.folder(job_id) / name)) is not None:
                return path
        return None

    def poster(self, job_id: str) -> Path | None:
        """A picture standing for the result: the picture itself, or a clip's first painted frame (there may be
        frames before the clip is whole)."""
        if (result := self._own(self.folder(job_id) / RESULT)) is not None:
            return result
        painted = sorted(work_folder(self.folder(job_id) / CLIP_RESULT).glob(FRAMES))
        return self._own(painted[0]) if painted else None

    def copy_inputs(self, job: Job, folder: Path) -> list[dict[str, str]]:
        """Copy a job's input files into another job's ``folder``; returns the new job's input records."""
        inputs = []
        for index, item in enumerate(job.inputs):
            source = self.input_file(job, index)
            if source is None:
                raise ImageError("this job's pictures are gone from the studio's folder; it cannot be painted again")
            shutil.copyfile(source, folder / source.name)
            inputs.append(dict(item))
        return inputs

    def input_file(self, job: Job, index: int) -> Path | None:
        """The job's ``index``-th input (0: content, then the paintings and the masks), by the file name the studio
        gave it."""
        if not 0 <= index < len(job.inputs):
            return None
        return self._own(self.folder(job.id) / Path(job.inputs[index]["file"]).name)
