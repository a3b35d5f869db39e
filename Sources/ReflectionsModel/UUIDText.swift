import Foundation

/// UUIDs as text in the one form the sync uses (36 characters, `8-4-4-4-12` hex digits; written upper-case),
/// without Foundation's C path.
///
/// Profiled (BENCHMARKS.md, session 9): Foundation's `UUID(uuidString:)` goes through `sscanf` and `uuidString`
/// through `sprintf`; serving a pull page spent about an eighth of the server's CPU in them (each record names
/// itself, its author and its reflection, read from text columns and written into JSON). These do the same with
/// a table lookup. `UUIDTextTests` checks both against Foundation on random and malformed input.
///
/// Only the canonical spelling parses. That is stricter than Foundation, whose C parser also takes a sign or white
/// space inside a group (`"9C1776ED-+E01-…"`) and stops at a NUL: the server reads these from its own columns,
/// which hold only what it wrote, so nothing it stored is refused, and odd text never becomes an id.
public enum UUIDText {
    /// The UUID `text` spells (either case), or nil.
    public static func parse(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    /// The UUID the UTF-8 bytes `utf8` spell (either case), or nil.
    public static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard utf8.count == 36 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var index = 0
            var byte = 0
            while index < 36 {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard utf8[index] == UInt8(ascii: "-") else { return false }
                    index += 1
                    continue
                }
                let high = nibble(utf8[index])
                let low = nibble(utf8[index + 1])
                guard high < 16, low < 16 else { return false }
                out[byte] = high << 4 | low
                byte += 1
                index += 2
            }
            return true
        }
        return valid ? UUID(uuid: value) : nil
    }

    /// The value of one hex digit, or 16 for anything else.
    @inline(__always) private static func nibble(_ character: UInt8) -> UInt8 {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character &- UInt8(ascii: "A") &+ 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character &- UInt8(ascii: "a") &+ 10
        default: 16
        }
    }

    private static let digits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends the 36 upper-case characters of `uuid` (as `uuidString` spells it) to `bytes`.
    public static func append(_ uuid: UUID, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid.uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            }
        }
    }

    /// `uuid.uuidString`, without `sprintf`.
    public static func string(_ uuid: UUID) -> String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            withUnsafeBytes(of: uuid.uuid) { raw in
                var at = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    buffer[at] = digits[Int(byte >> 4)]
                    buffer[at + 1] = digits[Int(byte & 0x0F)]
                    at += 2
                }
            }
            return 36
        }
    }
}
