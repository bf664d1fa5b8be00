"""The editors' workbench: a new issue, fitting, proofs, previews, diffs, the live preview and its page (web/).
May import: the base modules, issue/, engine/, press/, check/, build.py, session.py, send/ and workbench/ itself."""
