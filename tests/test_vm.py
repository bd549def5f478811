"""Virtual machines vs containers: own kernel, boot time, memory overhead."""

import pytest

import aivle_k8s as ak
from aivle_k8s.machines import Hypervisor
from aivle_k8s.machines.vm import GUEST_OS_MEMORY, HYPERVISOR_OVERHEAD


@pytest.fixture
def hv(host):
    return Hypervisor(host)


def test_a_vm_boots_its_own_kernel(host, hv):
    vm = hv.create_vm("vm1", memory="1Gi")
    assert vm.sh("uname -r").stdout != host.sh("uname -r").stdout
    assert vm.sh("hostname").stdout == "vm1\n"


def test_booting_takes_tens_of_simulated_seconds(world, hv):
    start = world.now
    vm = hv.create_vm("vm1")
    assert vm.state == "running"
    assert 20 <= world.now - start <= 35


def test_a_booting_vm_refuses_ssh(hv):
    vm = hv.create_vm("vm1", wait=False)
    r = vm.sh("echo hi")
    assert r.exit_code == 255 and "Connection refused" in r.stderr
    hv.wait_all()
    assert vm.sh("echo hi").stdout == "hi\n"


def test_vms_boot_in_parallel_when_not_waited_for(hv):
    for i in range(3):
        hv.create_vm(f"vm{i}", memory="512Mi", wait=False)
    took = hv.wait_all()
    assert took < 35
    assert all(vm.state == "running" for vm in hv.list())


def test_each_vm_reserves_its_whole_memory_plus_overhead(hv):
    vm = hv.create_vm("vm1", memory="1Gi")
    assert vm.host_memory == 1024**3 + HYPERVISOR_OVERHEAD
    assert vm.memory_used >= GUEST_OS_MEMORY


def test_the_host_runs_out_of_memory_for_vms(host, hv):
    made = []
    with pytest.raises(ak.AivleError) as err:
        for i in range(10):
            made.append(hv.create_vm(f"vm{i}", memory="1Gi", wait=False))
    assert "Cannot allocate memory" in str(err.value)
    assert 0 < len(made) < 10
    assert f"vm{len(made)}" not in host.world.machines  # the failed VM was not created


def test_bad_vm_requests(hv):
    with pytest.raises(ak.InvalidInput):
        hv.create_vm("tiny", memory="64Mi")
    with pytest.raises(ak.InvalidInput):
        hv.create_vm("wide", cpus=64)
    with pytest.raises(ak.NotFound):
        hv.get("nope")


def test_destroy_gives_memory_back(hv):
    hv.create_vm("vm1", memory="1Gi")
    free = hv.memory_free()
    hv.destroy("vm1")
    assert hv.memory_free() == free + 1024**3 + HYPERVISOR_OVERHEAD
    with pytest.raises(ak.Conflict):
        hv.destroy("vm1")
