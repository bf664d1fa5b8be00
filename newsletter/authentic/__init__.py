"""Authentic copies: a finished edition -> one post's copy, stamped with its copy line and
signed (PAdES), and the check of such a copy.

- ``copyline.py``: the copy line drawn on every page of a finished PDF, as an artifact, in a
  bundled font embedded with it;
- ``sign.py``: the ministry's key (PKCS#12) and the copy made from an edition: stamped and
  signed in one incremental update, so the edition's own bytes stay as they were built;
- ``verify.py``: whether a file is such a copy, signed by a trusted certificate, unchanged,
  and for whom it was made.

Nothing here lays a page out again: the editions are built by ``build.py`` and finished by
``press/``; this package only adds to the finished file.

May import: the base modules and authentic/ itself.
"""

import warnings

# pyHanko imports DSA's key class, which cryptography marks as deprecated on import: a
# warning on every command that signs, about an algorithm this tool never uses.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")
