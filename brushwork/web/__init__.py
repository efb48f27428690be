"""The studio: a local web page and JSON API over the same engine as the command line.

:func:`~brushwork.web.server.serve` runs it; :func:`~brushwork.web.app.create_app` builds the app.
"""
