"""The layout engine: HTML rendered from the issue, laid out by WeasyPrint in parts and passes, its boxes read back, the page fill measured.
May import: the base modules, issue/ and engine/ itself."""
