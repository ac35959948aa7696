"""Files that ship inside the package: the reason glossary, the demo config, page templates.

Found next to this module, so they work the same from a checkout and from an installed wheel.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

RESOURCES = Path(__file__).resolve().parent
TEMPLATES = RESOURCES / "templates"


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The one Jinja environment over ``resources/templates``.

    HTML is autoescaped (Markdown templates are not), and an undefined name is an error.
    """
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2", "xml"), default_for_string=True, default=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
