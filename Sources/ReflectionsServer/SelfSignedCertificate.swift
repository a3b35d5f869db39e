import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificate reflectd makes on its first start when the operator gives none.
///
/// Shape: P-256 key, `BasicConstraints` CA with path length 0 and `KeyUsage` digitalSignature + keyCertSign — the
/// shape `openssl req -x509` makes, which BoringSSL accepts as a client's only trust root (a `CA:FALSE` leaf with
/// only digitalSignature is refused) — and subject alternative names for localhost, 127.0.0.1, ::1 and the host.
public struct SelfSignedCertificate: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String
    /// `sha256:` and the lower-case hex SHA-256 of the DER certificate: what `reflect init --pin` takes.
    public var fingerprint: String

    /// Makes a new certificate valid for about two years.
    public static func generate(hostnames: [String], now: Date = Date()) throws -> SelfSignedCertificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("reflectd")
            OrganizationName("Reflections")
        }
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
        for host in hostnames where host != "localhost" && !host.isEmpty {
            if let bytes = ipv4Bytes(host) {
                if bytes != [127, 0, 0, 1] {
                    names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
                }
            } else if !host.contains(":") {
                names.append(.dnsName(host))
            }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            SubjectAlternativeNames(names)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(2 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return SelfSignedCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation,
            fingerprint: fingerprint(der: serializer.serializedBytes))
    }

    /// The `sha256:HEX` fingerprint of a DER certificate.
    public static func fingerprint(der: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
    }

    /// The fingerprint of the first certificate in a PEM text.
    public static func fingerprint(pem: String) throws -> String {
        let document = try PEMDocument(pemString: pem)
        return fingerprint(der: document.derBytes)
    }

    private static func ipv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
