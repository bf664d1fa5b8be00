"""Defaults shared by the command line and the stages, in a module light enough for both."""

#: A layout that takes longer than this (seconds) is stopped: issue 10 takes about 1 s.
DEFAULT_TIME_LIMIT = 120.0

#: Seconds ``send`` waits for each reply of the mail server (and each write to it).
DEFAULT_SMTP_TIMEOUT = 60.0

#: ``send`` stops a run after this many timeouts or connection failures in a row.
DEFAULT_MAX_FAILURES = 3
