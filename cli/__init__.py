"""The command line's groups of commands (``orders pipeline ...``); ``starter.py`` is its entry."""
