"""kubeadm's PKI: a real CA key pair and real X.509 certificates, deterministic per world seed.

RSA key generation is slow and random, so the keys come from a pool of 2048-bit
keys generated once and shipped with the package (``cluster/keys/``); the
world's seeded RNG picks one per certificate. Signatures are PKCS#1 v1.5 with
SHA-256, which is deterministic, and validity comes from the simulated clock,
so the same seed gives byte-identical certificates — and the same
``--discovery-token-ca-cert-hash``.

>>> import random, datetime as dt
>>> now = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)
>>> ca = new_ca(random.Random(0), now)
>>> ca.subject_cn, ca.is_ca
('kubernetes', True)
>>> srv = new_cert(ca, random.Random(1), now, "kube-apiserver", dns_names=["kubernetes"], ips=["10.96.0.1"],
...                server=True)
>>> srv.verify_signed_by(ca), srv.dns_names, srv.ip_addresses
(True, ['kubernetes'], ['10.96.0.1'])
>>> spki_sha256(ca.cert) == spki_sha256(ca.cert_pem)
True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertKey", "new_ca", "new_cert", "new_key", "key_pool", "spki_sha256", "load_cert", "load_key",
           "apiserver_sans", "CA_VALIDITY_DAYS", "CERT_VALIDITY_DAYS", "CERT_BACKDATE"]

#: kubeadm: CAs are valid for 10 years, leaf certificates for 1 year.
CA_VALIDITY_DAYS = 3650
CERT_VALIDITY_DAYS = 365
#: kubeadm backdates NotBefore by 5 minutes (clock skew between nodes).
CERT_BACKDATE = _dt.timedelta(minutes=5)

_KEY_DIR = Path(__file__).with_name("keys")


@lru_cache(maxsize=None)
def key_pool() -> tuple[rsa.RSAPrivateKey, ...]:
    """The shipped RSA-2048 keys (loaded once per process)."""
    keys = []
    for path in sorted(_KEY_DIR.glob("rsa-2048-*.pem")):
        keys.append(serialization.load_pem_private_key(path.read_bytes(), password=None))
    if not keys:  # pragma: no cover - a broken install
        raise RuntimeError(f"no RSA keys found in {_KEY_DIR}")
    return tuple(keys)


def new_key(rng: Any) -> rsa.RSAPrivateKey:
    """A private key picked from the pool with the seeded ``rng``."""
    pool = key_pool()
    return pool[rng.randrange(len(pool))]


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


class CertKey:
    """A certificate and its private key (``ca.crt`` + ``ca.key`` on disk)."""

    def __init__(self, cert: x509.Certificate, key: rsa.RSAPrivateKey | None):
        self.cert = cert
        self.key = key

    def __repr__(self) -> str:
        return f"<CertKey CN={self.subject_cn} expires {self.not_after:%Y-%m-%d}>"

    @property
    def cert_pem(self) -> bytes:
        return _pem_cert(self.cert)

    @property
    def key_pem(self) -> bytes:
        if self.key is None:
            raise ValueError("no private key")
        return _pem_key(self.key)

    @property
    def public_key_pem(self) -> bytes:
        return self.cert.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def subject_cn(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return attrs[0].value if attrs else ""

    @property
    def organizations(self) -> list[str]:
        return [a.value for a in self.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]

    @property
    def issuer_cn(self) -> str:
        attrs = self.cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        return attrs[0].value if attrs else ""

    @property
    def not_before(self) -> _dt.datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> _dt.datetime:
        return self.cert.not_valid_after_utc

    @property
    def is_ca(self) -> bool:
        try:
            return bool(self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            return False

    def _sans(self) -> x509.SubjectAlternativeName | None:
        try:
            return self.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return None

    @property
    def dns_names(self) -> list[str]:
        s = self._sans()
        return list(s.get_values_for_type(x509.DNSName)) if s else []

    @property
    def ip_addresses(self) -> list[str]:
        s = self._sans()
        return [str(ip) for ip in s.get_values_for_type(x509.IPAddress)] if s else []

    def verify_signed_by(self, ca: "CertKey | x509.Certificate") -> bool:
        """True when ``ca``'s key signed this certificate (PKCS#1 v1.5, SHA-256)."""
        ca_cert = ca.cert if isinstance(ca, CertKey) else ca
        try:
            ca_cert.public_key().verify(self.cert.signature, self.cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                        self.cert.signature_hash_algorithm)
        except InvalidSignature:
            return False
        return self.cert.issuer == ca_cert.subject

    def valid_at(self, when: _dt.datetime) -> bool:
        return self.not_before <= when <= self.not_after


def load_cert(pem: bytes | str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)


def load_key(pem: bytes | str) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)


def _name(cn: str, orgs: Iterable[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _serial(rng: Any) -> int:
    return rng.getrandbits(63) | 1


def new_ca(rng: Any, now: _dt.datetime, cn: str = "kubernetes", *, days: int = CA_VALIDITY_DAYS) -> CertKey:
    """A self-signed CA (``kubernetes``, ``etcd-ca``, ``front-proxy-ca``), valid 10 years from ``now``."""
    key = new_key(rng)
    name = _name(cn)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(_serial(rng))
            .not_valid_before(now - CERT_BACKDATE)
            .not_valid_after(now + _dt.timedelta(days=days))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return CertKey(cert, key)


def new_cert(ca: CertKey, rng: Any, now: _dt.datetime, cn: str, *, organizations: Iterable[str] = (),
             dns_names: Iterable[str] = (), ips: Iterable[str] = (), server: bool = False, client: bool = False,
             days: int = CERT_VALIDITY_DAYS, public_key: Any = None) -> CertKey:
    """A certificate signed by ``ca`` (serving and/or client auth), valid 1 year from ``now``.

    ``public_key`` signs a key someone else holds (a kubelet's CSR); otherwise a pool key is picked.
    """
    if ca.key is None:
        raise ValueError("the CA has no private key: cannot sign")
    key = None if public_key is not None else new_key(rng)
    pub = public_key if public_key is not None else key.public_key()
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client or not server:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(cn, organizations)).issuer_name(ca.cert.subject)
               .public_key(pub)
               .serial_number(_serial(rng))
               .not_valid_before(now - CERT_BACKDATE)
               .not_valid_after(min(now + _dt.timedelta(days=days), ca.not_after))
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return CertKey(builder.sign(ca.key, hashes.SHA256()), key)


def spki_sha256(cert: Any) -> str:
    """``sha256:<hex>`` of the certificate's SubjectPublicKeyInfo (DER): kubeadm's CA pin.

    The same as ``openssl x509 -pubkey -in ca.crt | openssl rsa -pubin -outform der | sha256sum``.
    Accepts a certificate, a :class:`CertKey` or PEM bytes/text.
    """
    if isinstance(cert, CertKey):
        cert = cert.cert
    elif isinstance(cert, (bytes, str)):
        cert = load_cert(cert)
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def apiserver_sans(hostname: str, advertise_address: str, service_ip: str = "10.96.0.1",
                   dns_domain: str = "cluster.local", control_plane_endpoint: str | None = None,
                   extra: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """``(dns_names, ips)`` of the apiserver serving certificate, in kubeadm's order."""
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", f"kubernetes.default.svc.{dns_domain}",
           hostname]
    ips = [service_ip, advertise_address]
    for name in ([control_plane_endpoint.rsplit(":", 1)[0]] if control_plane_endpoint else []) + list(extra):
        try:
            ipaddress.ip_address(name)
            if name not in ips:
                ips.append(name)
        except ValueError:
            if name not in dns:
                dns.append(name)
    return dns, ips
