"""Video: temporal consistency (Lai et al.'s warping error), style kept, and seconds per frame.

    .venv/bin/python benchmarks/bench_video.py [--seconds 2] [--size 256] [--speed-size 512] [--style starry_night]

On the bundled fox clip (the first 2 s of ``../shared/video/fox.mp4``): paints it with ``brushwork video``'s
defaults, and again frame by frame with the same settings but no temporal term (every frame painted on its
own, coarse to fine, as a picture); reports the warping error of the input (the floor its flow errors set),
of both paintings, their mean per-frame judge scores, and the seconds of the first and the later frames; then
times the first frames at ``--speed-size``. Writes docs/video_side_by_side.mp4 (input | per frame | brushwork)
and the RESULTS.md section.
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from pathlib import Path

import av
import numpy as np
from common import EXAMPLES, ROOT, cpu_flags, machine, write_section
from judge import Judge
from PIL import Image
from warping import warping_error

from brushwork.core.settings import Settings, VideoSettings
from brushwork.media.clips import frames, probe
from brushwork.media.images import load_image
from brushwork.video.painting import paint_clip
from brushwork.video.timeline import frame_size
from brushwork.video.work_folder import work_folder

CLIP = EXAMPLES / "video/fox.mp4"
WORK = ROOT / "benchmarks/results/video"


def paint(clip, style, settings, video, name, fresh=True):
    """Paint into WORK/name.mp4; ``fresh=False`` goes on from the frames an earlier run left (the per-frame run
    costs about a minute a frame here, so its frames are kept, in git too: delete its folder to paint them
    again)."""
    out = WORK / f"{name}.mp4"
    if fresh:
        shutil.rmtree(work_folder(out), ignore_errors=True)
    begin = time.perf_counter()
    result = paint_clip(clip, [style], settings, video, out, keep_memory=True, overwrite=True)
    return result, time.perf_counter() - begin, [Image.open(p).convert("RGB") for _, p in result.pictures]


def side_by_side(columns: list[list[Image.Image]], fps, path: Path) -> None:
    width, height = columns[0][0].size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width * len(columns), height, "yuv420p"
        stream.options = {"crf": "20"}
        for row in zip(*columns):
            sheet = Image.new("RGB", (width * len(columns), height))
            for i, picture in enumerate(row):
                sheet.paste(picture.resize((width, height)), (i * width, 0))
            for packet in stream.encode(av.VideoFrame.from_image(sheet)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--speed-size", type=int, default=512)
    parser.add_argument("--speed-frames", type=int, default=6)
    parser.add_argument("--style", default="starry_night")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    clip = probe(CLIP)
    style = load_image(EXAMPLES / f"style/{args.style}.jpg", "style")
    settings, video = Settings(size=args.size), VideoSettings(end=args.seconds)
    wh = frame_size(clip, settings)
    inputs = [f.image.resize(wh, Image.Resampling.LANCZOS) for f in frames(CLIP, 0, args.seconds)]
    ours, ours_wall, ours_frames = paint(clip, style, settings, video, "brushwork")
    alone, alone_wall, alone_frames = paint(
        clip, style, settings, VideoSettings(end=args.seconds, temporal_weight=0), "per_frame", fresh=False
    )
    alone_times = ([alone.first_seconds] if alone.first_seconds else []) + alone.later_seconds
    errors = {
        "input": warping_error(inputs, inputs),
        "per frame": warping_error(inputs, alone_frames),
        "brushwork video": warping_error(inputs, ours_frames),
    }
    judge = Judge(inputs[0], style.rgb, size=args.size)
    scores = {}
    for name, painted in (("per frame", alone_frames), ("brushwork video", ours_frames)):
        judged = [judge.score(p) for p in painted]
        scores[name] = {k: float(np.mean([j[k] for j in judged])) for k in ("gram", "swd")}
    side_by_side([inputs, alone_frames, ours_frames], clip.fps, ROOT / "docs/video_side_by_side.mp4")
    speed_settings = Settings(size=args.speed_size)
    fast, _, _ = paint(
        clip, style, speed_settings, VideoSettings(end=args.speed_frames / float(clip.fps)), f"speed_{args.speed_size}"
    )
    later = ours.later_seconds
    fast_later = fast.later_seconds
    ratio = errors["brushwork video"] / errors["per frame"]
    rows = "\n".join(
        f"| {name} | {error:.2e} | "
        + (f"{scores[name]['gram']:.3f} / {scores[name]['swd']:.3f} |" if name in scores else "- |")
        for name, error in errors.items()
    )
    per_frame = (
        f"{np.mean(alone_times):.1f} s a frame ({len(alone_times)} frames painted in this run)"
        if alone_times
        else "its frames were painted by an earlier run"
    )
    style_change = {k: scores["brushwork video"][k] / scores["per frame"][k] - 1 for k in ("gram", "swd")}
    command = f"--seconds {args.seconds:g} --size {args.size} --speed-size {args.speed_size} --style {args.style}"
    first, later_mean, fast_mean = ours.first_seconds or math.nan, float(np.mean(later)), float(np.mean(fast_later))
    text = f"""## Video (`bench_video.py`)

Command: `.venv/bin/python benchmarks/bench_video.py {command}`
Machine: {machine()}; CPU flags: {cpu_flags()}.
Clip: the first {args.seconds:g} s of the fox ({len(inputs)} frames, {clip.fps} fps), painted at {wh[0]}x{wh[1]} after
{args.style}. "per frame": every frame painted on its own with the same settings (temporal weight 0: coarse to fine,
as a picture); "brushwork video": the defaults (temporal weight {video.temporal_weight:g}, {video.later_steps} steps a
later frame). Warping error (Lai et al. 2018): flow and occlusion from the input frames, the masked mean squared
difference (0-1 pixels) between each output frame and the next warped back, over all pairs. Judge: mean per frame at
{args.size} px (gram / swd).

| frames | warping error | judge |
| --- | --- | --- |
{rows}

- brushwork video's warping error is {ratio:.0%} of the per-frame one (target: at most 35%); its style scores are
  {style_change["gram"]:+.1%} (gram) and {style_change["swd"]:+.1%} (swd) from the per-frame run's (target: within 10%).
- Seconds per frame at {args.size} px: first {first:.1f} s, later {later_mean:.2f} s on average
  ({later_mean / first:.0%} of the first; target at most 33%); per frame alone: {per_frame}. Whole clip
  (brushwork video): {ours_wall:.0f} s.
- At {args.speed_size} px ({args.speed_frames} frames): first {fast.first_seconds or math.nan:.1f} s, later
  {fast_mean:.2f} s on average ({fast_mean / (fast.first_seconds or math.nan):.0%} of the first).

Side by side (input | per frame | brushwork video): `docs/video_side_by_side.mp4`."""
    write_section("bench_video", text)
    print(text)


if __name__ == "__main__":
    main()
