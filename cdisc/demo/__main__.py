"""`python -m cdisc.demo --out DIR --seed N --subjects N` writes the demo raw export."""
import sys

from cdisc.demo.generator import main

sys.exit(main(sys.argv[1:]))
