"""``brushwork video CLIP STYLE [STYLE...] -o OUT.mp4``: paint a clip, frames held together along the flow."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from brushwork.cli.kit import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    Bar,
    Parser,
    add_output,
    add_plan,
    add_preset,
    add_quiet,
    add_ray_options,
    add_regions,
    add_settings,
    add_version,
    advice,
    given_settings,
    ray_options,
    ray_session,
    region_files,
    require_output,
)
from brushwork.core.formats import CLIP_OUTPUT_SUFFIXES, in_words
from brushwork.core.settings import VIDEO_SPECS, Settings, VideoSettings, resolve
from brushwork.core.words import count, duration, time_left

if TYPE_CHECKING:
    import argparse

    from brushwork.engine.runner import Progress
    from brushwork.media.clips import ClipInfo
    from brushwork.media.images import Picture
    from brushwork.media.masks import RegionFiles, Regions
    from brushwork.video.painting import ClipPlan, FrameProgress, VideoResult
    from brushwork.video.segments import Segment

__all__ = ["parser", "command"]


def parser() -> Parser:
    p = Parser(
        prog="brushwork video",
        description="Paint a video clip in the style of one or more paintings. Each frame after the first starts "
        "from the one before, carried along the optical flow, and is held to it where the flow is sure "
        "(Ruder et al. 2016), so strokes do not flicker. Finished frames are kept in OUT.frames/ as they are "
        "painted: after Ctrl-C, the same command goes on where it stopped. Sound is copied unchanged.",
    )
    p.add_argument("clip", help="the video to paint (MP4, MOV, MKV, WebM ...)")
    p.add_argument("styles", nargs="*", metavar="style", help="one or more paintings whose style to use (or --region)")
    add_output(
        p,
        f"the painted clip ({in_words(CLIP_OUTPUT_SUFFIXES)}); required unless --plan",
        overwrite="replace an existing output, and start again over frames of another run left in OUT.frames/",
    )
    add_regions(p, "drawn on the clip as a player shows it, and held for every frame")
    add_preset(p)
    add_settings(p, specs=VIDEO_SPECS, defaults=VideoSettings())
    add_settings(p, skip=("save_every",))  # every finished frame is kept anyway, in OUT.frames/
    add_plan(
        p,
        "print the clip's plan (the first frame's levels, the later frames, memory and time on this machine) and stop",
    )
    add_ray_options(p, clip=True)
    add_quiet(p, "no plan or progress bar, only the summary")
    add_version(p)
    return p


class _Inputs(NamedTuple):
    """What the painting functions take first, in their order (and the regions, which they take by name)."""

    clip: ClipInfo
    styles: list[Picture]
    settings: Settings
    video: VideoSettings
    files: RegionFiles
    regions: Regions | None


def command(argv: Sequence[str]) -> int:
    from brushwork.video.painting import paint_clip, plan_clip
    from brushwork.video.segments import segmented
    from brushwork.video.timeline import frame_size
    from brushwork.video.work_folder import check_unclaimed, fingerprint_of, frames_kept, work_folder

    p = parser()
    args = p.parse_intermixed_args(argv)
    require_output(p, args)
    if args.plan and args.ray:  # the plan is one machine's, frame after frame: not what a cluster does
        p.error(
            "--plan shows painting here, frame after frame; on Ray the clip is split into segments once its "
            "workers are known (said as it starts): leave out --ray to see a frame's plan"
        )
    cluster = ray_session(p, args)
    settings = resolve(preset_name=args.preset, **given_settings(args))
    video = VideoSettings(**given_settings(args, VIDEO_SPECS))
    style_paths, files = region_files(p, args)
    output = _output(args, style_paths, files, settings)
    inputs = _inputs(args, style_paths, files, settings, video)
    painting = inputs[:4]
    if output is not None and not args.plan:  # frames of another run: refused before the plan is said
        fingerprint = fingerprint_of(*painting, inputs.regions)
        check_unclaimed(work_folder(output), segmented(fingerprint) if args.ray else fingerprint, args.overwrite)
    kept = 0 if args.ray or output is None else frames_kept(output, *painting, inputs.regions)
    planned = plan_clip(*painting, kept=kept)
    if args.plan or output is None:
        print(planned.describe())
        return 0
    if not args.quiet:
        _say_plan(planned, output)
    progress = _FrameBar(planned, args.quiet)
    with cluster:  # Ray stops after the report: an interrupted clip says so before Ray's own shutdown
        with progress.bar:
            if args.ray:
                result = _paint_on_ray(args, style_paths, inputs, output, progress)
            else:
                result = paint_clip(
                    *painting,
                    output,
                    regions=inputs.regions,
                    callback=progress.frame,
                    step_callback=progress.step,
                    keep_memory=True,
                    overwrite=args.overwrite,
                )
        return _report(result, output, frame_size(inputs.clip, settings))


def _output(
    args: argparse.Namespace, style_paths: Sequence[str], files: RegionFiles, settings: Settings
) -> Path | None:
    """The painted clip's path, checked before any work; with ``--plan`` only named (None when it is not)."""
    from brushwork.engine import recipes
    from brushwork.media.files import check_output_path

    if args.plan:
        return Path(args.output) if args.output else None
    inputs = recipes.input_files(settings, args.clip, style_paths, files)
    return check_output_path(args.output, args.overwrite, inputs, suffixes=CLIP_OUTPUT_SUFFIXES)


def _inputs(
    args: argparse.Namespace, style_paths: Sequence[str], files: RegionFiles, settings: Settings, video: VideoSettings
) -> _Inputs:
    """The clip, the paintings and the regions, each refused in one line before any work; a damaged clip is
    warned of even with -q, since the painted clip will be short, and so is a mask that was resized."""
    from brushwork.engine.inputs import check_run
    from brushwork.media.clips import probe
    from brushwork.media.images import load_image
    from brushwork.media.masks import load_regions

    clip = probe(args.clip)
    if clip.damage:
        print(f"brushwork video: warning: {clip.warning()}", file=sys.stderr)
    styles = [load_image(path, "style") for path in style_paths]
    check_run(settings, len(styles))
    regions = load_regions(files, clip.upright, styles, "frame", settings.style_blend)
    for note in regions.notes if regions is not None else ():
        print(f"brushwork video: note: {note}", file=sys.stderr)
    return _Inputs(clip, styles, settings, video, files, regions)


def _say_plan(planned: ClipPlan, output: Path) -> None:
    """The plan before painting, and the frames an earlier run left to go on from."""
    from brushwork.video.work_folder import work_folder

    if planned.kept >= planned.frames:
        print(f"all {planned.frames} frames are painted in {work_folder(output)}: writing the clip", file=sys.stderr)
        return
    print(planned.describe(), file=sys.stderr)
    if planned.kept:
        print(f"going on from the {count(planned.kept, 'frame')} painted in {work_folder(output)}", file=sys.stderr)


class _FrameBar:
    """One bar in frames, with one time left: the frame being painted's and the frames after it."""

    def __init__(self, planned: ClipPlan, quiet: bool):
        self.bar = Bar("painting", "frame", quiet=quiet)
        self.frames, self.done = planned.frames, 0
        self.each = planned.later.seconds
        """A later frame's seconds: the plan's, then what they take here."""

    def frame(self, p: FrameProgress) -> None:
        """A frame (or, on Ray, a segment) is finished."""
        if p.total > p.done:
            self.each = p.eta / (p.total - p.done)
        self.done = p.done
        self.bar.show(p.done, p.total, time_left(p.eta))

    def step(self, p: Progress) -> None:
        """A step within a frame: each one redraws the bar, so progress within a long first frame shows."""
        left = p.eta + self.each * (self.frames - self.done - 1)
        where = f"frame {self.done + 1}: step {p.step}/{p.total}"
        self.bar.show(self.done, self.frames, f"{where}; {time_left(left)}", refresh=True)


def _paint_on_ray(
    args: argparse.Namespace, style_paths: Sequence[str], inputs: _Inputs, output: Path, progress: _FrameBar
) -> VideoResult:
    """The clip in segments of ``--segment-frames`` (else shared out evenly), each painted by a Ray worker."""
    from brushwork.cluster import paint_clip_on_ray

    def announce(segments: Sequence[Segment], left: int, workers: int) -> None:
        if not args.quiet:
            print(_segments_words(segments, left, workers), file=sys.stderr)

    files = ([Path(s) for s in style_paths], inputs.files)
    return paint_clip_on_ray(
        *inputs[:4],
        output,
        files,
        args.ray,
        ray_options(args),
        regions=inputs.regions,
        callback=progress.frame,
        on_plan=announce,
        overwrite=args.overwrite,
    )


def _segments_words(segments: Sequence[Segment], left: int, workers: int) -> str:
    """The segments and who paints them, before any is painted."""
    longest = max(s.last - s.first + 1 for s in segments)
    done = f" ({len(segments) - left} already painted)" if left < len(segments) else ""
    return (
        f"on Ray: {count(len(segments), 'segment')} of up to {count(longest, 'frame')}{done}, "
        f"painted by {min(left, workers)} of {count(workers, 'worker')}"
    )


def _report(result: VideoResult, output: Path, size: tuple[int, int]) -> int:
    """What was written, or where the frames painted so far are kept; the exit status says which."""
    if result.status == "diverged":  # the same command would diverge again: say what to change
        lower = advice(result.culprit)
        kept = f"; the {count(result.done, 'frame')} painted before it are kept in {result.work}" if result.done else ""
        print(f"brushwork video: error: {result.message}{lower}{kept}", file=sys.stderr)
        return EXIT_DIVERGED
    if result.status != "done":
        so_far = f"; the frame cut short is {result.unfinished} so far" if result.unfinished else ""
        print(
            f"brushwork video: interrupted; {result.done} of {count(result.total, 'frame')} are kept in {result.work}"
            f"{so_far}; run the same command again to go on",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    how = f"painted in {duration(result.elapsed)}" if result.painted else "from the frames already painted"
    print(
        f"wrote {output}: {count(result.done, 'frame')} of {size[0]}x{size[1]} px, {how}; frames in {result.work}",
        file=sys.stderr,
    )
    return 0
