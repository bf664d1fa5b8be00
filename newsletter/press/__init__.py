"""The editions' finishing: CMYK images and the XMP finisher, and for the print edition its marks, slug, overprint and plates.
May import: the base modules, issue/ and press/ itself."""
