import sys

from cdisc.cli import main

sys.exit(main())
