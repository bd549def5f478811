"""Virtual machines, for comparing them with containers.

A :class:`Hypervisor` runs on a host machine. Each :class:`VirtualMachine`
boots **its own guest kernel** (``uname -r`` differs from the host's) and a
whole guest OS: it takes tens of simulated seconds to boot and reserves its
full memory size plus the hypervisor's overhead from the host. A container,
by contrast, is a process on the host's kernel: it starts in well under a
second and uses only what its processes use.

>>> import aivle_k8s as ak
>>> world = ak.World(seed=0)
>>> host = world.machine("host", cpus=4, memory="8Gi")
>>> hv = Hypervisor(host)
>>> vm = hv.create_vm("vm1", memory="1Gi")
>>> vm.state, round(vm.boot_seconds) >= 20
('running', True)
>>> vm.sh("uname -r").stdout == host.sh("uname -r").stdout
False
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sim.errors import AivleError, Conflict, InvalidInput, NotFound
from .machine import Machine, parse_quantity

if TYPE_CHECKING:  # pragma: no cover
    from ..world import World

__all__ = ["Hypervisor", "VirtualMachine", "GUEST_OS_MEMORY", "HYPERVISOR_OVERHEAD", "HOST_OS_MEMORY"]

#: Memory a booted guest OS (kernel, systemd, sshd ...) uses inside the VM.
GUEST_OS_MEMORY = 380 * 1024**2
#: Memory the hypervisor process (QEMU/KVM) needs on the host per VM, beyond the guest's RAM.
HYPERVISOR_OVERHEAD = 64 * 1024**2
#: Memory the host's own OS uses.
HOST_OS_MEMORY = 512 * 1024**2


class VirtualMachine(Machine):
    """A guest machine with its own kernel, booted by a :class:`Hypervisor`."""

    kind = "vm"

    def __init__(self, world: "World", name: str, *, ip: str, cpus: int, memory, hypervisor: "Hypervisor",
                 boot_seconds: float, kernel_release: str = "6.8.0-31-generic"):
        super().__init__(world, name, cpus=cpus, memory=memory, ip=ip, kernel_release=kernel_release)
        self.hypervisor = hypervisor
        self.boot_seconds = boot_seconds
        self.state = "booting"
        self.created_at = world.now
        self.netns.up = False

    def __repr__(self) -> str:
        return f"<VirtualMachine {self.name} {self.state} {self.cpus} vCPU {self.memory // 1024**2} MiB>"

    def _booted(self) -> None:
        if self.state == "booting":
            self.state = "running"
            self.netns.up = True
            self.services.boot()

    def sh(self, command: str, **kwargs):
        if self.state != "running":
            from .machine import ShellResult

            return ShellResult(255, "", f"ssh: connect to host {self.name} port 22: Connection refused "
                                        f"(the VM is {self.state})\n")
        return super().sh(command, **kwargs)

    @property
    def host_memory(self) -> int:
        """Bytes this VM takes from its host (all of its RAM, plus hypervisor overhead)."""
        return 0 if self.state == "stopped" else self.memory + HYPERVISOR_OVERHEAD

    @property
    def memory_used(self) -> int:
        """Memory in use inside the guest (its OS, then its processes)."""
        return GUEST_OS_MEMORY + sum(p.rss for p in self.kernel.processes.values())

    def shutdown(self) -> None:
        """Power the VM off (its memory goes back to the host)."""
        for proc in list(self.kernel.processes.values()):
            self.kernel.signal(proc.pid, "KILL")
        self.state = "stopped"
        self.netns.up = False


class Hypervisor:
    """A type-2 hypervisor (think KVM/QEMU) on ``host``.

    Args:
        host: the machine the VMs run on; their memory comes out of its RAM.
    """

    def __init__(self, host: Machine):
        self.host = host
        self.world = host.world
        self.vms: dict[str, VirtualMachine] = {}

    def __repr__(self) -> str:
        return f"<Hypervisor on {self.host.name}: {len(self.vms)} VMs>"

    @property
    def memory_reserved(self) -> int:
        return sum(vm.host_memory for vm in self.vms.values())

    def memory_free(self) -> int:
        return self.host.memory - HOST_OS_MEMORY - self.memory_reserved

    def create_vm(self, name: str, *, cpus: int = 1, memory: str | int = "1Gi", wait: bool = True) -> VirtualMachine:
        """Create and boot a VM; with ``wait`` the simulated clock runs until it has booted.

        Raises:
            InvalidInput: more vCPUs than the host has, or a bad memory size.
            AivleError: the host has not enough free memory for the VM's RAM.
        """
        size = parse_quantity(memory)
        if size < 256 * 1024**2:
            raise InvalidInput(f"a VM needs at least 256Mi of memory to boot its guest OS, got {memory}")
        if cpus > self.host.cpus:
            raise InvalidInput(f"the VM wants {cpus} vCPUs but host {self.host.name} has only {self.host.cpus} CPUs")
        if size + HYPERVISOR_OVERHEAD > self.memory_free():
            free = max(self.memory_free(), 0) // 1024**2
            raise AivleError(f"error: Failed to start domain '{name}': internal error: process exited while "
                             f"connecting to monitor: cannot set up guest memory 'pc.ram': Cannot allocate memory "
                             f"(the VM needs {size // 1024**2 + HYPERVISOR_OVERHEAD // 1024**2} MiB, the host has "
                             f"{free} MiB free)")
        boot = 18.0 + self.world.rng.uniform(4.0, 14.0)
        vm = self.world._add_machine(VirtualMachine, name, cpus=cpus, memory=size, hypervisor=self,
                                     boot_seconds=boot)
        self.vms[name] = vm
        self.world.loop.call_later(boot, vm._booted)
        if wait:
            self.world.run_until(lambda: vm.state == "running", timeout=boot + 1)
        return vm

    def wait_all(self) -> float:
        """Run the clock until every VM has booted; returns the simulated seconds it took."""
        start = self.world.now
        self.world.run_until(lambda: all(vm.state != "booting" for vm in self.vms.values()), timeout=3600)
        return self.world.now - start

    def get(self, name: str) -> VirtualMachine:
        try:
            return self.vms[name]
        except KeyError:
            raise NotFound(f"error: failed to get domain '{name}'") from None

    def destroy(self, name: str) -> None:
        vm = self.get(name)
        if vm.state == "stopped":
            raise Conflict(f"error: Failed to destroy domain '{name}': domain is not running")
        vm.shutdown()

    def list(self) -> list[VirtualMachine]:
        return [self.vms[n] for n in sorted(self.vms)]
