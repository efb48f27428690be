"""The page itself, handed the studio's token, and what it reads first: the limits and default settings."""

import base64
import hashlib
import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from brushwork import __version__
from brushwork.core.settings import Settings
from brushwork.model.device import pick_device
from brushwork.web.forms import page_options
from brushwork.web.schemas import ConfigOut
from brushwork.web.studio import Studio

PAGE = Path(__file__).parents[1] / "static" / "index.html"
TOKEN_SLOT = '<meta name="brushwork-token" content="">'
"""Where the page is handed the studio's token, which it sends with every change."""


def page_policy(page: str) -> str:
    """The page's Content-Security-Policy: its own script (by its hash) and nothing from elsewhere, so that text
    it shows (a file's name) can never run, and it talks to the studio alone."""
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (
        f"default-src 'self'; script-src 'sha256-{digest}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def add_routes(router: APIRouter, studio: Studio) -> None:
    """Add ``/`` and ``/api/config``."""
    defaults = Settings().to_dict()
    limits = studio.limits

    @router.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        filled = TOKEN_SLOT.replace('content=""', f'content="{html.escape(studio.access.token)}"')
        text = PAGE.read_text(encoding="utf-8")
        policy = {"content-security-policy": page_policy(text)}
        return HTMLResponse(text.replace(TOKEN_SLOT, filled, 1), headers=policy)

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
