"""From ink to pictures: page layout, SVG, inspection plots."""
