"""kubeadm's PKI: a real CA, real X.509 certificates, the SPKI pin, all deterministic per seed."""

import datetime as dt
import hashlib
import random
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aivle_k8s.cluster import pki

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def test_ca_is_self_signed_and_valid_ten_years():
    ca = pki.new_ca(random.Random(0), NOW)
    assert ca.is_ca and ca.subject_cn == "kubernetes" and ca.issuer_cn == "kubernetes"
    assert ca.verify_signed_by(ca)
    assert ca.not_after - NOW == dt.timedelta(days=3650)


def test_leaf_certificate_is_signed_by_the_ca_and_valid_one_year():
    ca = pki.new_ca(random.Random(0), NOW)
    leaf = pki.new_cert(ca, random.Random(1), NOW, "kubernetes-admin", organizations=["kubeadm:cluster-admins"])
    assert leaf.verify_signed_by(ca)
    assert leaf.subject_cn == "kubernetes-admin" and leaf.organizations == ["kubeadm:cluster-admins"]
    assert leaf.not_after - NOW == dt.timedelta(days=365)
    assert not leaf.is_ca


def test_a_certificate_from_another_ca_does_not_verify():
    ca = pki.new_ca(random.Random(0), NOW)
    other = pki.new_ca(random.Random(5), NOW, "other")
    leaf = pki.new_cert(other, random.Random(1), NOW, "x")
    assert not leaf.verify_signed_by(ca)


def test_apiserver_sans_are_kubeadms():
    dns, ips = pki.apiserver_sans("master", "10.0.0.10")
    assert dns == ["kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local", "master"]
    assert ips == ["10.96.0.1", "10.0.0.10"]
    ca = pki.new_ca(random.Random(0), NOW)
    srv = pki.new_cert(ca, random.Random(1), NOW, "kube-apiserver", dns_names=dns, ips=ips, server=True)
    assert srv.dns_names == dns and srv.ip_addresses == ips


def test_spki_hash_is_sha256_of_the_der_public_key():
    ca = pki.new_ca(random.Random(0), NOW)
    der = ca.cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert pki.spki_sha256(ca.cert_pem) == "sha256:" + hashlib.sha256(der).hexdigest()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_spki_hash_matches_the_openssl_pipeline_of_the_kubeadm_docs(tmp_path):
    ca = pki.new_ca(random.Random(0), NOW)
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    pub = subprocess.run(["openssl", "x509", "-pubkey", "-in", str(tmp_path / "ca.crt"), "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         capture_output=True, check=True).stdout
    assert pki.spki_sha256(ca.cert) == "sha256:" + hashlib.sha256(der).hexdigest()


def test_same_seed_same_bytes_other_seed_other_key():
    a = pki.new_ca(random.Random(7), NOW).cert_pem
    b = pki.new_ca(random.Random(7), NOW).cert_pem
    c = pki.new_ca(random.Random(8), NOW).cert_pem
    assert a == b
    assert a != c


def test_pem_round_trip():
    ca = pki.new_ca(random.Random(0), NOW)
    assert x509.load_pem_x509_certificate(ca.cert_pem) == ca.cert
    assert pki.load_key(ca.key_pem).public_key().public_numbers() == ca.key.public_key().public_numbers()
