"""Defaults shared by the command line and the stages, in a module light enough for both."""

#: A layout that takes longer than this (seconds) is stopped: issue 10 takes about 1 s.
DEFAULT_TIME_LIMIT = 120.0
