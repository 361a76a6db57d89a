"""`chinwag serve`: the chinwag app in a browser tab, behind a token (the optional `web` extra).

``command`` parses and checks the options and needs nothing beyond the standard library;
``security`` holds the checks every request passes (pure functions); ``server`` wraps
textual-serve's aiohttp server with them. Nothing here imports Textual.
"""
