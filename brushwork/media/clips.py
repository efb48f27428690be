"""Video files: what a clip holds, its frames with their times, and writing a painted clip (PyAV).

Frames are read upright, turned as a player turns them (a phone's portrait clip is stored sideways,
with a display matrix), so they are painted as people see them. A painted clip keeps what the
player needs to show it as the original: each frame's timestamp (so a variable frame rate stays
variable), the pixel aspect ratio, and every audio stream, copied packet by packet (no
re-encoding). H.264 takes only even sides, so :func:`even_size` picks the painted size.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from brushwork.core import words
from brushwork.core.errors import ImageError, WrongKindError
from brushwork.media.files import regular_file

__all__ = ["ClipInfo", "Frame", "TIME_SLACK", "probe", "peek", "frames", "in_span", "even_size", "write_clip"]


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    width: int
    height: int
    """Coded size (before the rotation a player applies)."""
    fps: Fraction
    """Average frame rate (a variable-rate clip keeps its own timestamps anyway)."""
    duration: float
    """Seconds."""
    frames: int
    """Frames in the clip (counted when the container does not say)."""
    rotation: int
    """Degrees a player rotates the picture by (display matrix), 0 when none."""
    aspect: Fraction
    """Pixel (sample) aspect ratio, of the coded pixels; 1 for square pixels."""
    audio: int
    """Number of audio streams (copied into the painted clip)."""
    time_base: Fraction
    times: tuple[float, ...] = ()
    """Each frame's time, seconds from the clip's start."""
    damage: str = ""
    """Why the frames end before the clip does (a damaged or cut-off file), for a warning; empty for a whole clip."""

    @property
    def upright(self) -> tuple[int, int]:
        """(width, height) as a player shows the frames: turned by :attr:`rotation`."""
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)

    def warning(self, name: str | None = None) -> str:
        """What every front door warns of before painting a damaged clip, calling it ``name`` (an upload's own;
        by default its file name); empty for a whole one."""
        return f"{name or self.path.name} looks damaged: {self.damage}; painting those" if self.damage else ""


@dataclass(frozen=True)
class Frame:
    index: int
    """Position in the clip (0 is its first frame)."""
    time: float
    """Seconds from the start of the clip."""
    image: Image.Image
    """Upright: turned as a player shows it."""


_TURNS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def _upright(image: Image.Image, rotation: float) -> Image.Image:
    """A frame turned by its display matrix's rotation (degrees counter-clockwise), as a player shows it."""
    turn = _TURNS.get(int(round(rotation)) % 360)
    return image.transpose(turn) if turn is not None else image


def _open(path: Path, shown: str | None = None) -> av.container.InputContainer:
    regular_file(path, "video", "a video file", shown)
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ImageError(
            f"cannot read {shown or path.name} as a video ({_why(exc)}); give an MP4, MOV or MKV file"
        ) from None


def _is_picture(path: Path) -> bool:
    """Whether Pillow reads ``path`` as a picture."""
    try:
        with Image.open(path) as picture:
            picture.verify()
    except Image.DecompressionBombError:  # a picture, if a huge one
        return True
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc).split(":")[-1].strip() or type(exc).__name__


def _video_stream(container: av.container.InputContainer, path: Path, name: str) -> av.VideoStream:
    """The clip's first video stream, decodable here; a one-line :class:`ImageError` naming ``name`` if none."""
    if not container.streams.video:
        raise ImageError(f"{name} has no video stream; give a video file")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None:  # a format ffmpeg finds but cannot decode here (an SVG drawing)
        raise ImageError(f"cannot read {name} as a video (no decoder for it here); give an MP4, MOV or MKV file")
    if ctx.name in ("png", "mjpeg", "bmp", "tiff", "webp", "gif") and (stream.frames or 0) <= 1:
        if not _is_picture(path):  # ffmpeg goes by the name: a text file called .jpg is no picture either
            raise ImageError(f"cannot read {name} as a video or a picture; give an MP4, MOV or MKV file")
        raise WrongKindError(
            f"{name} is a still picture, not a video", clip=False
        )  # the front door says what paints it
    return stream


def peek(path: str | Path, shown: str | None = None) -> None:
    """Refuse a file that is no playable video, as :func:`probe` would, from its first frame alone: a server takes an
    upload by it without decoding a long clip twice (:func:`probe` reads every frame)."""
    path = Path(path)
    name = shown or path.name
    with _open(path, shown) as container:
        _video_stream(container, path, name)
        try:
            next(container.decode(video=0))
        except StopIteration:
            raise _no_frames(name) from None
        except (av.error.FFmpegError, ValueError) as exc:
            raise _corrupt(name, exc) from None


def _no_frames(name: str) -> ImageError:
    return ImageError(f"{name} has no frames; give a clip with at least one frame")


def _corrupt(name: str, exc: BaseException) -> ImageError:
    return ImageError(f"{name} is corrupt: no frame could be decoded ({_why(exc)})")


def probe(path: str | Path, shown: str | None = None) -> ClipInfo:
    """What a clip holds; a one-line :class:`ImageError` for a file that is not a playable video, naming it as
    ``shown`` (by default its file name: a server names an upload by the name its sender gave)."""
    path = Path(path)
    name = shown or path.name
    with _open(path, shown) as container:
        stream = _video_stream(container, path, name)
        ctx, time_base = stream.codec_context, Fraction(stream.time_base or 1)  # ffmpeg gives every stream one
        rotation, count, last, times, failure = 0, 0, 0.0, [], ""
        origin = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        try:
            for frame in container.decode(video=0):
                if count == 0:
                    rotation = int(round(frame.rotation or 0)) % 360
                count += 1
                last = float(frame.time or 0.0) - origin
                times.append(last)
        except (av.error.FFmpegError, ValueError) as exc:
            if count == 0:
                raise _corrupt(name, exc) from None
            failure = _why(exc)
        if count == 0:
            raise _no_frames(name)
        fps = Fraction(stream.average_rate or stream.guessed_rate or 25)
        duration = float(container.duration / 1e6) if container.duration else last + 1 / float(fps)
        length = float(stream.duration * time_base) if stream.duration else duration
        damage = _damage(count, stream.frames or 0, last, length, float(fps), failure)
        return ClipInfo(
            path=path,
            width=ctx.width,
            height=ctx.height,
            fps=fps,
            duration=duration,
            frames=count,
            rotation=rotation,
            aspect=Fraction(stream.sample_aspect_ratio or 1) or Fraction(1),
            audio=len(container.streams.audio),
            time_base=time_base,
            times=tuple(times),
            damage=damage,
        )


def _damage(count: int, declared: int, last: float, length: float, fps: float, failure: str) -> str:
    """Why a clip's decodable frames end early, or "": a decoder error, fewer frames than the container
    declares, or the last frame well before the stream's end (a file cut off, or damaged in the middle:
    decoders drop what they cannot read without an error)."""
    if declared > count:
        return f"only {count} of its {declared} frames could be decoded"
    if failure or length - last > max(1.0, 3 / fps):
        frames = words.count(count, "frame")
        return f"only {frames}, up to {last:.2f} s of {length:.2f} s, could be decoded" + (
            f" ({failure})" if failure else ""
        )
    return ""


TIME_SLACK = 1e-6
"""Seconds a frame's time may fall short of a bound and still count as at it (times are rounded fractions)."""


def in_span(time: float, start: float, end: float) -> bool:
    """Whether a frame at ``time`` is one of those from ``start`` to before ``end``: what is painted, read and
    written of a clip (:func:`frames`, :func:`~brushwork.video.timeline.painted_positions`) is decided alike."""
    return start - TIME_SLACK <= time < end - TIME_SLACK


def frames(path: str | Path, start: float = 0.0, end: float = math.inf) -> Generator[Frame, None, None]:
    """The clip's frames from ``start`` to ``end`` seconds (RGB, upright), in order."""
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        index = 0
        try:
            for frame in container.decode(video=0):
                time = float(frame.time or 0.0) - origin
                if time >= end - TIME_SLACK:
                    break
                if in_span(time, start, end):
                    image = _upright(frame.to_image().convert("RGB"), frame.rotation or 0)
                    yield Frame(index, time, image)
                index += 1
        except (av.error.FFmpegError, ValueError):
            return  # a clip cut short ends at its last good frame (probe has checked there is one)


def even_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """The painted size: longest side ``longest`` (never past the clip's), both sides even for H.264."""
    scale = min(1.0, longest / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def write_clip(
    pictures: list[tuple[float, Path]],
    source: ClipInfo,
    output: Path,
    start: float = 0.0,
    end: float = math.inf,
) -> None:
    """Encode painted frames (``(seconds from the clip's start, PNG path)``, upright) into ``output`` as H.264, with
    the source's pixel aspect (turned with the frames) and audio (the part from ``start`` to ``end``, copied as it
    is)."""
    with Image.open(pictures[0][1]) as first:
        width, height = first.size
    time_base = source.time_base
    with av.open(str(output), "w") as out, av.open(str(source.path)) as src:
        video = out.add_stream("libx264", rate=source.fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = time_base
        video.codec_context.time_base = time_base
        turned = source.rotation in (90, 270)  # a pixel wide in the coded frame is tall in the upright one
        video.codec_context.sample_aspect_ratio = 1 / source.aspect if turned else source.aspect
        video.options = {"crf": "18", "preset": "medium"}
        audio = [(stream, out.add_stream_from_template(stream)) for stream in src.streams.audio]
        last = -1
        for seconds, path in pictures:
            with Image.open(path) as picture:
                frame = av.VideoFrame.from_ndarray(np.asarray(picture.convert("RGB")), format="rgb24")
            pts = max(last + 1, round(Fraction(seconds - start).limit_denominator(10**6) / time_base))
            frame.pts, frame.time_base, last = pts, time_base, pts
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        into = {stream_in.index: stream_out for stream_in, stream_out in audio}
        for packet in src.demux(*(stream_in for stream_in, _ in audio)) if audio else ():  # every track in one pass
            stream_in = packet.stream
            if packet.pts is None or packet.dts is None or stream_in.index not in into:
                continue
            origin = stream_in.start_time or 0
            seconds = float((packet.pts - origin) * stream_in.time_base)
            before = start > 0 and seconds < start - TIME_SLACK  # from 0 on: the encoder's priming too
            if before or seconds >= end:
                continue
            shift = round(Fraction(start).limit_denominator(10**6) / stream_in.time_base)
            packet.pts -= origin + shift
            packet.dts -= origin + shift
            packet.stream = into[stream_in.index]
            out.mux(packet)
