"""``python -m twineauthenticate``: run the task (or ``cleanup``) from the environment."""

import sys

from .cli import main

sys.exit(main())
