"""Jobs end to end: read inputs -> pure stages -> write outputs atomically, and log.

Only this module, ``cli.py`` and ``tracking.py`` touch disk, MLflow and the environment.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
