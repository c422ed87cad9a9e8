"""``python -m mykey``."""

import sys

from mykey.cli import main

sys.exit(main())
