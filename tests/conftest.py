"""Shared fixtures: a fresh world and a fresh machine in it."""

import pytest

import aivle_k8s as ak


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def host(world):
    return world.machine("host", cpus=4, memory="8Gi")
