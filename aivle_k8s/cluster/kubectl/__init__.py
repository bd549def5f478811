"""kubectl: the command-line front of the cluster (the ``kubectl`` program and its command layer).

- ``parser``    cobra/pflag command line (global flags anywhere, did-you-mean suggestions)
- ``commands``  :class:`Kubectl`: get, describe, create, apply, delete, logs, exec, scale, rollout, ...
- ``printers``  per-kind tables, ages, ``-o yaml|json|name|jsonpath|custom-columns``
- ``describe``  per-kind ``kubectl describe`` reports
- ``apply``     manifests from files / dirs / URLs / stdin and the three-way merge
- ``program``   ``@register_program("kubectl")``: kubeconfig discovery, the process's network namespace

Importing this package registers the ``kubectl`` program.
"""

from .commands import CLIENT_VERSION, Kubectl
from .parser import Invocation, parse_command_line
from .program import main

__all__ = ["Kubectl", "parse_command_line", "Invocation", "main", "CLIENT_VERSION"]
