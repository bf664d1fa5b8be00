"""newsletter: typeset a quarterly newsletter issue written in YAML into a print-ready PDF.

The pipeline reads top to bottom, one module per stage:
load (YAML -> model) -> render (model -> HTML) -> typeset (HTML -> laid-out document,
page references verified) -> build (atomic write of the PDF).
"""

__version__ = "0.1.0"
