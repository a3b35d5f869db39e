import Synchronization

/// A value shared between tasks, behind a lock.
public final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    /// The current value.
    public var value: Value { mutex.withLock { $0 } }

    /// Changes the value under the lock.
    public func update<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
