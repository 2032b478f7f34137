import sys

from cstrack.cli import main

sys.exit(main())
