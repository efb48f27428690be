"""Report tools, apart from the core: the seed report's figures, labelled contact sheets, a generated Mondrian."""

FIGURES = ("progression", "tv", "styles", "mondrian")
"""The figures :func:`brushwork.report.figures.make` draws."""
MONDRIAN_SIZE = 512
"""The generated Mondrian's side in pixels: a painting, the same whatever size the figures are painted at."""
FIGURE_SIZE = 384
"""The longest side of each figure's painted pictures, unless asked otherwise: the seed report's scale."""
