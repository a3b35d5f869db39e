import Foundation
import ReflectionsModel

/// A request body that the server decodes strictly: it names an instance with every optional field set, from
/// which the set of known key paths is derived once.
protocol StrictBody: Codable {
    static var everyField: Self { get }
    static var knownPaths: Set<String> { get }
}

/// Strict decoding of request bodies: well-formed UTF-8 JSON, nesting at most ``maxDepth`` deep, no duplicate
/// keys, and no fields the target type does not know.
///
/// Foundation's `JSONDecoder` ignores unknown keys and keeps one of two duplicate keys; a sync protocol that
/// accepted either could silently drop what a newer or buggy client meant, so both are refused. One pass over
/// the bytes checks depth and duplicates and collects every key path (`mutations[].changes.title`), which must
/// all be among the paths of the type's ``StrictBody/everyField`` instance; then `JSONDecoder` decodes once.
enum StrictJSON {
    /// The deepest nesting of arrays and objects a body may have.
    static let maxDepth = 32

    /// Decodes `data` as `T`, or throws a 400 ``ServerError`` that says what is wrong.
    static func decode<T: StrictBody>(_ type: T.Type, from data: Data) throws -> T {
        let paths = try scan(data)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw ServerError.badRequest("malformed_json", "The body is not valid JSON.")
        } catch let error as DecodingError {
            throw ServerError.badRequest("invalid_body", describe(error))
        } catch {
            throw ServerError.badRequest("malformed_json", "The body is not valid JSON.")
        }
        if let unknown = paths.subtracting(T.knownPaths).sorted().first {
            throw ServerError.badRequest(
                "unknown_field", "The body has a field this server does not know: '\(unknown)'.")
        }
        return value
    }

    /// The key paths of a value's JSON encoding.
    static func paths<T: Encodable>(of value: T) -> Set<String> {
        (try? scan(JSONEncoder().encode(value))) ?? []
    }

    /// One pass over the bytes: checks UTF-8, nesting depth and duplicate keys, and returns every key path.
    static func scan(_ data: Data) throws -> Set<String> {
        guard String(data: data, encoding: .utf8) != nil else {
            throw ServerError.badRequest("invalid_utf8", "The body is not valid UTF-8.")
        }
        struct Container {
            var keys: Set<[UInt8]>?  // nil for arrays
            var path: String
        }
        var paths = Set<String>()
        var stack: [Container] = []
        var expectingKey = false
        var lastKeyPath = ""
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if stack.count >= maxDepth {
                        throw ServerError.badRequest(
                            "too_deep", "The body nests deeper than \(maxDepth) levels of arrays and objects.")
                    }
                    let path: String
                    if let parent = stack.last {
                        path = parent.keys == nil ? parent.path + "[]" : lastKeyPath
                    } else {
                        path = ""
                    }
                    stack.append(Container(keys: byte == UInt8(ascii: "{") ? Set() : nil, path: path))
                    expectingKey = byte == UInt8(ascii: "{")
                    index += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    _ = stack.popLast()
                    expectingKey = false
                    index += 1
                case UInt8(ascii: ","):
                    expectingKey = stack.last?.keys != nil
                    index += 1
                case UInt8(ascii: ":"):
                    expectingKey = false
                    index += 1
                case UInt8(ascii: "\""):
                    let start = index + 1
                    index += 1
                    while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                        index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    if expectingKey, let top = stack.indices.last, stack[top].keys != nil {
                        // In place: a copy of the container would copy its key set on every insert.
                        let key = Array(bytes[start..<min(index, bytes.count)])
                        let name = String(decoding: key, as: UTF8.self)
                        if !stack[top].keys!.insert(key).inserted {
                            throw ServerError.badRequest("duplicate_key", "The body names the key '\(name)' twice.")
                        }
                        let parent = stack[top].path
                        lastKeyPath = parent.isEmpty ? name : parent + "." + name
                        paths.insert(lastKeyPath)
                        expectingKey = false
                    }
                    index += 1
                default:
                    index += 1
                }
            }
        }
        return paths
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the body" : "'\(text)'"
        }
        switch error {
        case .typeMismatch(_, let context): return "Wrong type at \(path(context)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "Missing value at \(path(context))."
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "Missing field '\(key.stringValue)'\(parent)."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON." : "Invalid value at \(path(context))."
        @unknown default: return "The body does not match what this endpoint expects."
        }
    }
}

extension PushRequest: StrictBody {
    static var everyField: PushRequest {
        let id = UUID()
        return PushRequest(
            clientID: id,
            mutations: [
                Mutation(
                    id: id, clientID: id, target: .init(entity: .reflection, id: id), operation: .resolve,
                    baseVersion: 1,
                    changes: FieldChanges(
                        title: "", body: "", visibility: .private, promptID: 1, reflectionID: id, hidden: false),
                    resolution: Resolution(choice: .merged, revisionIDs: [id], takenRevisionID: id),
                    hlc: HLCTimestamp(physical: 0, node: ""))
            ], deviceName: "", epoch: "", cursor: 0)
    }
    static let knownPaths = StrictJSON.paths(of: everyField)
}

extension RegisterRequest: StrictBody {
    static var everyField: RegisterRequest { RegisterRequest(handle: "", displayName: "", password: "") }
    static let knownPaths = StrictJSON.paths(of: everyField)
}

extension AccountUpdate: StrictBody {
    static var everyField: AccountUpdate { AccountUpdate(displayName: "") }
    static let knownPaths = StrictJSON.paths(of: everyField)
}

extension LoginRequest: StrictBody {
    static var everyField: LoginRequest { LoginRequest(handle: "", password: "") }
    static let knownPaths = StrictJSON.paths(of: everyField)
}
