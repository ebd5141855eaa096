"""The YAML loader every policy and category file is read with."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (the wheels are): a policy is parsed on
# every vault open, ten times faster than by PyYAML's own; else PyYAML's, same results.
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
