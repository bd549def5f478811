"""Machines: the unit everything runs on (hosts, cluster nodes, VMs)."""

from .machine import PACKAGE_HOOKS, Machine, ShellResult, parse_quantity
from .vm import Hypervisor, VirtualMachine

__all__ = ["Machine", "ShellResult", "parse_quantity", "PACKAGE_HOOKS", "Hypervisor", "VirtualMachine"]
