"""Shared fixtures: a fresh world and a fresh machine in it."""

import os

import pytest
from hypothesis import settings

# CI explores the same examples on every run (a failure found once is found again);
# locally, hypothesis searches anew each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

import aivle_k8s as ak


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def host(world):
    return world.machine("host", cpus=4, memory="8Gi")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_call``) so fixtures can see a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
