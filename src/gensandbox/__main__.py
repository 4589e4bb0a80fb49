"""`python -m gensandbox` is the same as the `gensandbox` command."""

import sys

from gensandbox.cli.app import main

sys.exit(main())
