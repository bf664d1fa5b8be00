"""Sending: recipients, composing, the transport, the ledger, the send loop and its plan.
May import: the base modules, issue/, engine/, check/, build.py, authentic/ and send/ itself."""
