"""The translator's round trip: ``newsletter translate export`` writes the texts of one
edition that another lacks or that changed since they were translated, as XLIFF 1.2 or PO,
for the translator's own tools; ``newsletter translate import`` writes the translations back
into the other edition's file, with the record of what each was made from
(``translated_from:``, which the ``translation-stale`` rule of ``check`` reads).

One module per step: ``units`` (the texts of two editions side by side, and their state),
``xliff`` and ``po`` (the two file formats, written and read with lxml and Babel), ``export``
and ``importer`` (the two public entries, ``export_texts`` and ``import_texts``).

May import: the base modules (errors, safeio) and issue/.
"""

from __future__ import annotations
