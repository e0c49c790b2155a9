"""The conformance rules; importing this package registers them all, in report order."""
from validate.rules import structure  # noqa: F401  (isort: skip)
from validate.rules import values  # noqa: F401
from validate.rules import terms  # noqa: F401
from validate.rules import across  # noqa: F401
from validate.rules import adam  # noqa: F401
from validate.rules import define_checks  # noqa: F401
from validate.rules import recall  # noqa: F401
from validate.rules import trial_summary  # noqa: F401
from validate.rules import reading  # noqa: F401
