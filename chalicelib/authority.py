"""A provider's certificate authority: client certificates for tenants (and the server certificate
`make run TLS=1` serves), with the `cryptography` package. The admin CLI and the local stack use it;
the Lambdas never do (they only compare fingerprints: chalicelib/certificates.py).

Its key stays in the folder it was made in (`--ca`, `CMLBRIDGE_CA_DIR`, `.local-state/tls` by
default); the certificate `ca.crt` beside it is the truststore API Gateway's mutual TLS reads."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
_CA_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
LEAF_DAYS = 825  # what browsers and most TLS stacks still accept for a leaf


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def pkcs12(self, name: str, password: str, ca: x509.Certificate) -> bytes:
        """The `.p12` (PFX) 1C's `СертификатКлиентаФайл` and Windows' certificate store import."""
        return pkcs12.serialize_key_and_certificates(
            name.encode(),
            self.key,
            self.certificate,
            [ca],
            serialization.BestAvailableEncryption(password.encode()),
        )


class Authority:
    def __init__(self, folder: Path, root: Issued) -> None:
        self.folder, self.root = folder, root

    @property
    def certificate_path(self) -> Path:
        return self.folder / "ca.crt"

    @classmethod
    def load_or_create(cls, folder: Path, name: str = "cmlbridge provider CA") -> Authority:
        folder.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = folder / "ca.crt", folder / "ca.key"
        if cert_path.exists() and key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_path}: not the EC key this authority makes")
            return cls(folder, Issued(x509.load_pem_x509_certificate(cert_path.read_bytes()), key))
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            _builder(subject, subject, key.public_key(), CA_DAYS)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .sign(key, hashes.SHA256())
        )
        root = Issued(certificate, key)
        key_path.touch(mode=0o600)
        key_path.write_bytes(root.key_pem)
        cert_path.write_bytes(root.certificate_pem)
        return cls(folder, root)

    def issue_client(self, common_name: str) -> Issued:
        """A client certificate: a tenant's 1C or shop backend presents it."""
        return self._issue(common_name, ExtendedKeyUsageOID.CLIENT_AUTH, ())

    def issue_server(self, names: tuple[str, ...]) -> Issued:
        """A server certificate for host names and IP addresses (`make run TLS=1`)."""
        return self._issue(names[0], ExtendedKeyUsageOID.SERVER_AUTH, names)

    def _issue(self, common_name: str, usage: x509.ObjectIdentifier, names: tuple[str, ...]) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (
            _builder(subject, self.root.certificate.subject, key.public_key(), LEAF_DAYS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names]), False
            )
        return Issued(builder.sign(self.root.key, hashes.SHA256()), key)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
