"""SAS XPORT files at the byte level: IBM floats, the checked record structure, a fast reader.

A low-level package of its own so that every layer may read XPT the same way: ``define/`` (our writer
and reading back), ``sdtm/`` (raw XPT sources), ``adam/`` and ``cdisc/`` (reading SDTM), and
``validate/``, which never imports ``define/``, ``sdtm/`` or ``adam/``. It imports nothing of ours.
"""
from sasxport.ibm import ibm_bytes, ibm_to_ieee, ieee_to_ibm, missing_codes
from sasxport.layout import Layout, Variable, XportError, read_layout
from sasxport.reader import XportDataset, XportVariable, check_xport, read_xport

__all__ = ["ibm_bytes", "ibm_to_ieee", "ieee_to_ibm", "missing_codes", "Layout", "Variable", "XportError",
           "read_layout", "XportDataset", "XportVariable", "check_xport", "read_xport"]
