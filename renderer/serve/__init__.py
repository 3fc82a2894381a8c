"""The dev server (`renderer serve`): the dev app around the production one, live reload,
watching, host checks, the terminal log and the `/_renderer/` pages.

May import the app, the site core and errors; nothing outside it imports it but `cli`.
"""
