import sys

from plax_conformance.cli import main

sys.exit(main())
