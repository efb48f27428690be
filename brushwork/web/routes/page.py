"""The page itself, handed the studio's token, and what it reads first: the limits and default settings."""

import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from brushwork import __version__
from brushwork.core.settings import Settings
from brushwork.engine.runner import pick_device
from brushwork.web.forms import page_options
from brushwork.web.schemas import ConfigOut
from brushwork.web.studio import Studio

PAGE = Path(__file__).parents[1] / "static" / "index.html"
TOKEN_SLOT = '<meta name="brushwork-token" content="">'
"""Where the page is handed the studio's token, which it sends with every change."""


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``/`` and ``/api/config``."""
    defaults = Settings().to_dict()
    limits = studio.limits

    @router.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        filled = TOKEN_SLOT.replace('content=""', f'content="{html.escape(studio.access.token)}"')
        return HTMLResponse(PAGE.read_text(encoding="utf-8").replace(TOKEN_SLOT, filled, 1))

    @router.get("/api/config", response_model=ConfigOut, summary="Limits and default settings")
    def config() -> ConfigOut:
        return ConfigOut(
            version=__version__,
            device=pick_device("auto").type,
            max_size=limits.max_size,
            max_steps=limits.max_steps,
            max_styles=limits.max_styles,
            max_upload_bytes=limits.max_upload_bytes,
            max_pixels=limits.max_pixels,
            max_clip_bytes=limits.max_clip_bytes,
            max_clip_seconds=limits.max_clip_seconds,
            defaults=defaults,
            options=page_options(limits),
        )
