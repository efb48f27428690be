"""``brushwork video CLIP STYLE [STYLE...] -o OUT.mp4``: paint a clip, frames held together along the flow."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brushwork import __version__
from brushwork.cli.kit import (
    EXIT_INTERRUPTED,
    Parser,
    add_ray_options,
    add_settings,
    bounded,
    given_settings,
    ray_session,
    ray_worker_options,
)
from brushwork.core.formats import VIDEO_SUFFIXES, in_words
from brushwork.core.settings import PRESET_HELP, PRESETS, VIDEO_SPECS, VideoSettings, resolve

if TYPE_CHECKING:
    from brushwork.engine.runner import Progress
    from brushwork.video.painting import FrameProgress
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
    p.add_argument("styles", nargs="+", metavar="style", help="one or more paintings whose style to use")
    p.add_argument("-o", "--output", help=f"the painted clip ({in_words(VIDEO_SUFFIXES)}); required unless --plan")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())
        + ". Options you type change the preset's values",
    )
    add_settings(p, specs=VIDEO_SPECS, defaults=VideoSettings())
    add_settings(p, skip=("save_every",))  # every finished frame is kept anyway, in OUT.frames/
    p.add_argument(
        "--plan",
        action="store_true",
        help="print the clip's plan (the first frame's levels, the later frames, memory and time on this machine) "
        "and stop",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output, and start again over frames of another run left in OUT.frames/",
    )
    add_ray_options(p).add_argument(
        "--segment-frames",
        type=bounded(int, 2, 10**7),
        metavar="N",
        help="with --ray: frames per segment, each painted by one worker (default: the clip shared out evenly); "
        "segments start at scene cuts, else share 4 frames, cross-faded, with the one before",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no plan or progress bar, only the summary")
    p.add_argument("--version", action="version", version=f"brushwork {__version__}")
    return p


def command(argv: Sequence[str]) -> int:
    from tqdm import tqdm

    from brushwork.core.settings import blend_weights
    from brushwork.media.clips import probe
    from brushwork.media.images import check_output_path, load_image
    from brushwork.planning.run_plan import duration
    from brushwork.video.painting import paint_clip, plan_clip
    from brushwork.video.segments import paint_clip_in_segments, segment_length
    from brushwork.video.timeline import frame_size
    from brushwork.video.work_folder import frames_kept, work_folder

    p = parser()
    args = p.parse_args(argv)
    if not args.plan and not args.output:
        p.error("the following arguments are required: -o/--output")
    cluster = ray_session(p, args)
    settings = resolve(preset_name=args.preset, **given_settings(args))
    video = VideoSettings(**given_settings(args, VIDEO_SPECS))
    if args.plan:
        output = Path(args.output) if args.output else None
    else:
        output = check_output_path(args.output, args.overwrite, (args.clip, *args.styles), suffixes=VIDEO_SUFFIXES)
    clip = probe(args.clip)
    if clip.damage:  # shown even with -q: the painted clip will be short
        print(
            f"brushwork video: warning: {clip.path.name} looks damaged: {clip.damage}; painting those", file=sys.stderr
        )
    styles = [load_image(path, "style") for path in args.styles]
    blend_weights(settings, len(styles))
    size = frame_size(clip, settings)
    kept = 0 if args.ray or output is None else frames_kept(output, clip, styles, settings, video)
    planned = plan_clip(clip, styles, settings, video, kept=kept)
    if args.plan or output is None:
        print(planned.describe())
        return 0
    work = work_folder(output)
    if not args.quiet:
        print(planned.describe(), file=sys.stderr)
        if kept:
            print(f"going on from the {kept} frames painted in {work}", file=sys.stderr)

    bar = None
    each = planned.later.seconds  # a later frame's seconds: the plan's, then what they take here

    def show(done: int, total: int, where: str, eta: float) -> None:
        """One bar in frames, with the one time left: the frame being painted's and the frames after it."""
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = tqdm(
                total=total,
                unit="frame",
                desc="painting",
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} frames [{elapsed}{postfix}]",
            )
        bar.set_postfix_str(f"{where}about {duration(eta)} left", refresh=bool(where))  # each step shows
        bar.update(done - bar.n)

    def progress(p: FrameProgress) -> None:
        nonlocal each
        if p.total > p.done:
            each = p.eta / (p.total - p.done)
        show(p.done, p.total, "", p.eta)

    def step(p: Progress) -> None:
        done = bar.n if bar is not None else 0
        where = f"frame {done + 1}: step {p.step}/{p.total}; "
        show(done, planned.frames, where, p.eta + each * (planned.frames - done - 1))

    try:
        with cluster:
            if args.ray:
                from brushwork.cluster import ray_segments

                cpus, retries = ray_worker_options(args)
                runner = ray_segments(
                    Path(args.clip), [Path(s) for s in args.styles], settings, args.ray, args.workers, cpus
                )
                runner.retries, workers = retries, runner.workers or 1

                def announce(segments: Sequence[Segment], left: int) -> None:
                    if args.quiet:
                        return
                    longest = max(s.last - s.first + 1 for s in segments)
                    done = f" ({len(segments) - left} already painted)" if left < len(segments) else ""
                    print(
                        f"on Ray: {len(segments)} segment{'s'[: len(segments) > 1]} of up to {longest} frames{done}, "
                        f"painted by {min(left, workers)} of {workers} workers",
                        file=sys.stderr,
                    )

                result = paint_clip_in_segments(
                    clip,
                    styles,
                    settings,
                    video,
                    output,
                    runner,
                    length=args.segment_frames or segment_length(planned.frames, workers),
                    callback=progress,
                    on_plan=announce,
                    overwrite=args.overwrite,
                )
            else:
                result = paint_clip(
                    clip,
                    styles,
                    settings,
                    video,
                    output,
                    callback=progress,
                    step_callback=step,
                    keep_memory=True,
                    overwrite=args.overwrite,
                )
    finally:
        if bar is not None:
            bar.close()
    if result.status != "done":
        print(
            f"brushwork: interrupted; {result.done} of {result.total} frames are kept in {work}; "
            "run the same command again to go on",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(
        f"wrote {output}: {result.done} frames of {size[0]}x{size[1]} px, painted in {duration(result.elapsed)}; "
        f"frames in {work}",
        file=sys.stderr,
    )
    return 0
