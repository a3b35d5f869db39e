import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsTestSupport
import Synchronization

/// A transport that loses responses or fails part-way, to interrupt a sync at chosen points.
final class FaultyTransport: SyncTransport {
    struct Injected: Error {}
    let inner: any SyncTransport
    /// Pushes whose response is lost after the server applied them.
    let lostPushResponses: Mutex<Int>
    /// Pushes answered normally before the lost ones.
    let answeredPushes: Mutex<Int>
    /// Pull pages served before the connection "drops".
    let pullPagesBeforeFailure: Mutex<Int>

    init(
        _ inner: any SyncTransport, answerPushes: Int = 0, thenLosePushResponses losePushResponses: Int = 0,
        pullPagesBeforeFailure: Int = .max
    ) {
        self.inner = inner
        self.answeredPushes = Mutex(answerPushes)
        self.lostPushResponses = Mutex(losePushResponses)
        self.pullPagesBeforeFailure = Mutex(pullPagesBeforeFailure)
    }

    func push(_ request: PushRequest, token: String) async throws -> PushResponse {
        try afterPush(try await inner.push(request, token: token))
    }

    /// The sync engine's way (the outbox's stored JSON), forwarded as it is so that these tests send the bytes a
    /// member's device sends.
    func push(_ push: EncodedPush, token: String) async throws -> PushResponse {
        try afterPush(try await inner.push(push, token: token))
    }

    /// The answer, or the injected loss of it.
    private func afterPush(_ response: PushResponse) throws -> PushResponse {
        let answer = answeredPushes.withLock { count in
            defer { count -= 1 }
            return count > 0
        }
        if answer { return response }
        let lose = lostPushResponses.withLock { count in
            defer { count -= 1 }
            return count > 0
        }
        if lose { throw Injected() }
        return response
    }

    func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: DownloadFromZero?) async throws
        -> PullResponse
    {
        let fail = pullPagesBeforeFailure.withLock { count in
            defer { count -= 1 }
            return count <= 0
        }
        if fail { throw Injected() }
        return try await inner.pull(since: since, limit: limit, token: token, epoch: epoch, fullDownload: fullDownload)
    }
}
