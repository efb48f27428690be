"""Which frames of a clip are painted, at what size, and with which settings: the first frame as a picture
is, the later ones warm-started from the frame before."""

from __future__ import annotations

from brushwork.core.errors import ImageError
from brushwork.core.settings import Settings, VideoSettings
from brushwork.media.clips import ClipInfo, even_size, in_span


def frame_size(clip: ClipInfo, settings: Settings) -> tuple[int, int]:
    """The painted frame size: the clip's shape, upright, at ``settings.size`` (never larger), both sides even."""
    return even_size(*clip.upright, settings.size)


def painted_times(clip: ClipInfo, video: VideoSettings) -> list[float]:
    """The times of the frames ``video`` paints (from its start, before its end)."""
    return [clip.times[i] for i in painted_positions(clip, video)]


def painted_positions(clip: ClipInfo, video: VideoSettings) -> list[int]:
    """The positions in the clip (0: its first frame) of the frames ``video`` paints."""
    return [i for i, t in enumerate(clip.times) if in_span(t, video.start, video.until)]


def no_frames(clip: ClipInfo, video: VideoSettings) -> ImageError:
    """The error of a part of the clip that holds no frame, saying where its frames are."""
    first, last = (clip.times[0], clip.times[-1]) if clip.times else (0.0, clip.duration)
    return ImageError(f"{clip.path.name} has no frames {video.span}; its frames are from {first:.2f} s to {last:.2f} s")


def frame_settings(clip: ClipInfo, settings: Settings, video: VideoSettings) -> tuple[Settings, Settings]:
    """The first frame's settings (coarse to fine, as a picture) and every later frame's (one level)."""
    first = settings.replace(size=max(frame_size(clip, settings)))
    return first, first.replace(scales=1, steps=video.later_steps)
