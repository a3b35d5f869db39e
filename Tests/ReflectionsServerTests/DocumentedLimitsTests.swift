import Foundation
import ReflectionsModel
import Testing

/// The limits in README.md and Schema/openapi.yaml are those of ``Limits``.
@Suite struct DocumentedLimitsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func openAPIStatesTheLimits() throws {
        let spec = try String(contentsOf: Self.root.appendingPathComponent("Schema/openapi.yaml"), encoding: .utf8)
        let expected = [
            "push body \(Limits.pushMaxBytes) bytes", "push batch \(Limits.pushMaxMutations) mutations",
            "other request bodies \(Limits.otherRequestMaxBytes) bytes",
            "pull limit 1..\(Limits.pullMaxLimit) (default \(Limits.pullDefaultLimit))",
            "log limit 1..\(Limits.logMaxLimit) (default 100)", "title 1..\(Limits.titleMaxCharacters) characters",
            "reflection body at most \(Limits.reflectionBodyMaxBytes) bytes",
            "comment 1 character to \(Limits.commentBodyMaxBytes) bytes", "maxItems: \(Limits.pushMaxMutations)",
            "title at most \(Limits.titleMaxBytes) bytes of UTF-8",
            "display name at most \(Limits.displayNameMaxBytes) bytes of UTF-8",
            "open conflict revisions at most \(Limits.openConflictRevisionsMax) per record",
            "maximum: \(Limits.pullMaxLimit), default: \(Limits.pullDefaultLimit)",
        ]
        for text in expected { #expect(spec.contains(text), "openapi.yaml lacks '\(text)'") }
    }

    @Test func theReadmeStatesTheLimits() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let expected = [
            "| reflection title | 1–\(Limits.titleMaxCharacters) characters, one line, at most \(Limits.titleMaxBytes / 1024) KiB of UTF-8 |",
            "| display name | 1–\(Limits.displayNameMaxCharacters) characters, one line, at most \(Limits.displayNameMaxBytes) bytes of UTF-8;",
            "| device name | the same rules, 1–\(Limits.deviceNameMaxCharacters) characters, at most \(Limits.deviceNameMaxBytes) bytes;",
            "| open conflict revisions | \(Limits.openConflictRevisionsMax) per record;",
            "| reflection body | 1 character to \(Limits.reflectionBodyMaxBytes / 1024) KiB of UTF-8 |",
            "| comment body | 1 character to \(Limits.commentBodyMaxBytes / 1024) KiB of UTF-8 |",
            "| push body | \(Limits.pushMaxBytes / 1024 / 1024) MiB |",
            "| push batch | \(Limits.pushMaxMutations) mutations |",
            "| a mutation's clock stamp | names its device in 1–\(Limits.hlcNodeMaxBytes) printable ASCII characters",
            "| other request bodies | \(Limits.otherRequestMaxBytes / 1024) KiB |",
            "| pull page | `limit` 1–1,000 (default \(Limits.pullDefaultLimit)) |",
            "| change streams | \(Limits.eventStreamsPerMemberDefault) open per member, 2,000 per server",
            "a heartbeat every \(Limits.eventHeartbeatSeconds) s; a reader that has not taken an event within \(Limits.eventWriteTimeoutSeconds) s",
        ]
        for text in expected { #expect(readme.contains(text), "README.md lacks '\(text)'") }
    }
}
