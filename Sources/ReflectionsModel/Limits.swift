/// Every size limit of the system in one place, shared by client and server.
///
/// The README and `Schema/openapi.yaml` document the same numbers; a test checks that they agree.
public enum Limits {
    /// A title holds 1 to 200 characters (grapheme clusters, after NFC normalisation).
    public static let titleMaxCharacters = 200
    /// A title holds at most 1 KiB of UTF-8 as well: characters can be made of many scalars (one letter with
    /// thousands of combining marks is one character), so the character limit alone bounds nothing.
    public static let titleMaxBytes = 1024
    /// A reflection's body holds at most 64 KiB of UTF-8.
    public static let reflectionBodyMaxBytes = 64 * 1024
    /// A comment holds at least one visible character and at most 8 KiB of UTF-8.
    public static let commentBodyMaxBytes = 8 * 1024
    /// A handle is 3 to 32 characters of `a-z`, `0-9`, `.`, `_` and `-`.
    public static let handleMinCharacters = 3
    /// See ``handleMinCharacters``.
    public static let handleMaxCharacters = 32
    /// A display name holds 1 to 100 characters.
    public static let displayNameMaxCharacters = 100
    /// A display name holds at most 512 bytes of UTF-8 (see ``titleMaxBytes``).
    public static let displayNameMaxBytes = 512
    /// A device name (`reflect init --device-name`): at most 40 characters and 160 bytes of UTF-8, one line.
    public static let deviceNameMaxCharacters = 40
    public static let deviceNameMaxBytes = 160
    /// A mutation's clock stamp names its device in 1–64 printable ASCII characters (clients use the first 8 of
    /// their client id); anything else would break ordering or a storage engine (PostgreSQL refuses NUL in text).
    public static let hlcNodeMaxBytes = 64
    /// A password holds at least 10 characters.
    public static let passwordMinCharacters = 10
    /// A password holds at most 1,024 bytes (scrypt hashes it whole; this bounds the work).
    public static let passwordMaxBytes = 1024
    /// A record holds at most 20 open conflict revisions; a further conflicting edit is rejected
    /// (`too_many_conflicts`) and kept on its device until the author resolves the others.
    public static let openConflictRevisionsMax = 20
    /// One push carries at most 500 mutations.
    public static let pushMaxMutations = 500
    /// One push body is at most 4 MiB.
    public static let pushMaxBytes = 4 * 1024 * 1024
    /// Any other request body is at most 64 KiB.
    public static let otherRequestMaxBytes = 64 * 1024
    /// A pull page holds at most 1,000 changes.
    public static let pullMaxLimit = 1000
    /// The page size of a pull that names no limit.
    public static let pullDefaultLimit = 500
    /// A log page holds at most 1,000 entries.
    public static let logMaxLimit = 1000
    /// One member holds at most 8 open change streams (`GET /v1/sync/events`) on one server; over it, 429.
    /// Eight covers a member's phone, laptop, ward computer and a few browser tabs; a script opening streams in
    /// a loop is stopped at eight. `reflectd serve --max-streams-per-member` changes it.
    public static let eventStreamsPerMemberDefault = 8
    /// One server holds at most 2,000 open change streams in all; over it, 429 (`--max-streams`).
    public static let eventStreamsPerServerDefault = 2000
    /// A change stream sends a heartbeat comment every 20 seconds (and re-checks the token and its cursor then).
    public static let eventHeartbeatSeconds = 20
    /// A change stream whose reader has not taken an event within 10 seconds is closed (slow readers are
    /// dropped, not buffered).
    public static let eventWriteTimeoutSeconds = 10
    /// A change stream ends cleanly after an hour; clients reconnect (a forgotten or stolen stream does not hold
    /// one of its member's places for ever).
    public static let eventStreamMaxLifetimeSeconds = 3600
}
