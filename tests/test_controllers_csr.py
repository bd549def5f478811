"""The kubelet TLS bootstrap: CSR auto-approval and signing; namespace deletion."""

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aivle_k8s.cluster.controller_manager import ControllerManager
from aivle_k8s.cluster.controllers.testing import TestCluster

KEY = ec.generate_private_key(ec.SECP256R1())


def csr_pem(cn="system:node:worker-1", org="system:nodes"):
    req = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    return req.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def csr(name="node-csr-abc", pem=None):
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
            "spec": {"request": base64.b64encode(pem or csr_pem()).decode(),
                     "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                     "usages": ["digital signature", "client auth"]}}


@pytest.fixture
def env():
    env = TestCluster()
    env.signed = []

    def sign(pem, usages, duration):
        env.signed.append((pem, usages, duration))
        return b"-----BEGIN CERTIFICATE-----\nFAKE\n-----END CERTIFICATE-----\n"

    env.cm = ControllerManager(env.cm_client, env.loop, signer=sign)
    env.cm.start()
    return env


def test_bootstrap_token_csr_is_auto_approved_and_signed(env):
    env.client.with_user("system:bootstrap:abcdef").create(csr())
    env.advance(1)
    obj = env.client.get("csr", "node-csr-abc")
    approved, = obj["status"]["conditions"]
    assert (approved["type"], approved["status"], approved["reason"]) == ("Approved", "True", "AutoApproved")
    assert approved["message"] == "Auto approving kubelet client certificate after SubjectAccessReview."
    assert base64.b64decode(obj["status"]["certificate"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert env.signed[0][1] == ["digital signature", "client auth"]


def test_csr_from_an_admin_is_not_auto_approved(env):
    env.client.create(csr())
    env.advance(1)
    obj = env.client.get("csr", "node-csr-abc")
    assert not obj["status"].get("conditions") and not obj["status"].get("certificate")


def test_csr_not_for_a_node_is_not_approved(env):
    env.client.with_user("system:bootstrap:abcdef").create(csr(pem=csr_pem(cn="alice", org="devs")))
    env.advance(1)
    assert not env.client.get("csr", "node-csr-abc")["status"].get("conditions")


def test_deleting_a_namespace_deletes_its_content_then_the_namespace(env):
    env.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    env.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-a"},
                       "data": {"k": "v"}})
    env.advance(1)
    env.client.delete("namespaces", "team-a")
    env.advance(1)
    assert "team-a" not in [n["metadata"]["name"] for n in env.client.list("namespaces")["items"]]
    assert env.client.list("configmaps", "team-a")["items"] == []


def test_ca_signer_signs_the_csr_key_with_the_ca():
    import datetime as dt
    import random

    from aivle_k8s.cluster import pki
    from aivle_k8s.cluster.controller_manager import ca_signer

    now = dt.datetime(2025, 3, 3, 9, tzinfo=dt.timezone.utc)
    ca = pki.new_ca(random.Random(0), now)
    key_pem = ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                   serialization.NoEncryption())
    sign = ca_signer(ca.cert.public_bytes(serialization.Encoding.PEM), key_pem, random.Random(1), lambda: now)
    cert = x509.load_pem_x509_certificate(sign(csr_pem(), ["digital signature", "client auth"], 86400 * 365))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:worker-1"
    assert cert.issuer == ca.cert.subject
