"""``bulkio ui``: a local web page to map, review, fix and import a file, over the same library
calls as the CLI (docs/ui.md).

>>> from bulkio.config import connect                                  # doctest: +SKIP
>>> from bulkio.ui import UiServer                                      # doctest: +SKIP
>>> with connect() as client, UiServer(client, file="deals.csv") as ui:  # doctest: +SKIP
...     print(ui.url)   # open it: the token in it is set as a cookie
"""

from __future__ import annotations

from .app import UiSession, create_app
from .recipes import list_recipes, load_recipe, save_recipe
from .server import UiServer, serve

__all__ = ["UiServer", "UiSession", "create_app", "list_recipes", "load_recipe", "save_recipe", "serve"]
