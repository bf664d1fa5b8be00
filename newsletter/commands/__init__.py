"""The commands of ``newsletter``, one module each (``build``, ``check``, ``send``, ``status``,
``new``, ``preview``, ``diff``, ``schema``, ``serve``, ``fit``, ``translate``): what a command
does once its arguments are parsed, and what it prints. ``cli.py`` declares them to typer and maps how
each ends to an exit code (``common.Stop``, ``IssueError``, ``EnvironmentFault``).
May import: anything of the package but ``cli.py``; each imports the stages it calls when it
runs, not when it is imported: ``new``, ``status``, ``schema`` and ``translate`` load no
WeasyPrint.
"""
