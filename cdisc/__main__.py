import sys

from cdisc.cli import main
from cdisc.profiling import profiled

with profiled("cdisc"):  # (only when CDISC_PROFILE names a folder: the benchmark's profile)
    code = main()
sys.exit(code)
