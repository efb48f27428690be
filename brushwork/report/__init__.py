"""Report tools, apart from the core: the seed report's figures, labelled contact sheets, a generated Mondrian."""

FIGURES = ("progression", "tv", "styles", "mondrian")
"""The figures :func:`brushwork.report.figures.make` draws."""
