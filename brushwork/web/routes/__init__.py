"""The studio's routes, one module per resource, each adding its routes for one :class:`~brushwork.web.studio.Studio`.

Routes are added per studio, not once per process, because a studio's limits and examples are part of its
OpenAPI schema (the form's bounds, the highest input index); for the same reason these modules do without
``from __future__ import annotations``: FastAPI must evaluate the annotations. Each module's ``add_routes``
adds to the app's own router rather than to one of its own that the app would include: FastAPI builds an
included router's routes only on the first request, in whichever thread serves it, while the painter may be
loading pictures, and the two then race over the process's warning filters.

A job paints a picture, or a short clip given in the photo's place (within the studio's clip limits): its
frames show as previews as they finish, and its result is an MP4.

Every error answer is ``{"detail": "one line"}``, whatever went wrong: with a 4xx status for a malformed form, a
bad id, an upload that is no image, settings that brushwork refuses; with a 5xx for the studio's own trouble (507:
its disk is full).
"""
