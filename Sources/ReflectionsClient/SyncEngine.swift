import Foundation
import ReflectionsModel

/// What one sync did.
public struct SyncSummary: Sendable, Codable, Hashable {
    /// Mutations the server acknowledged (applied, merged or kept as a conflict).
    public var pushed: Int
    /// Changes pulled and applied locally.
    public var pulled: Int
    /// Pushed mutations that the server merged with concurrent changes.
    public var merged: Int
    /// Pushed mutations that became conflicts in this run.
    public var conflicts: Int
    /// Pushed mutations the server refused (they stay in the outbox; see `reflect status`).
    public var rejected: Int
    /// Records with open conflicts after the run.
    public var openConflicts: Int
    /// Local changes still waiting (made during the sync, or rejected).
    public var pending: Int
    /// The pull cursor after the run.
    public var cursor: Int64
    /// What a resync did, when the server had been restored from a backup since the last sync.
    public var resync: ResyncReport? = nil
}

/// Progress of a long sync, for a progress line.
public enum SyncProgress: Sendable {
    case pushing(sent: Int, total: Int)
    case pulling(received: Int)
}

/// Pushes the outbox, then pulls and applies the server's changes.
///
/// Safe to interrupt anywhere and run again: mutations are marked sent before they leave and re-sent unchanged
/// (the server answers a repeat with its first outcome), and the pull cursor moves only in the same transaction
/// that applies a page. So a sync killed half-way loses nothing and applies nothing twice.
public struct SyncEngine: Sendable {
    public let store: ClientStore
    public let transport: any SyncTransport
    /// Mutations per push (at most ``Limits/pushMaxMutations``).
    public var batchSize: Int
    /// Changes per pull page (at most ``Limits/pullMaxLimit``).
    public var pageSize: Int

    public init(
        store: ClientStore, transport: any SyncTransport, batchSize: Int = Limits.pushMaxMutations,
        pageSize: Int = Limits.pullMaxLimit
    ) {
        self.store = store
        self.transport = transport
        self.batchSize = min(max(1, batchSize), Limits.pushMaxMutations)
        self.pageSize = min(max(1, pageSize), Limits.pullMaxLimit)
    }

    /// Pushes, then pulls. When the server says it was restored from a backup since this device's last sync (409
    /// `server_restored`), it resyncs first (``ClientStore`` `+Resync`: nothing written here is lost; what the
    /// server lacks is queued again) and then pushes and pulls as usual.
    @discardableResult
    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        try await store.syncGate.run { try await syncAlone(progress: progress) }
    }

    /// One sync, with no other sync of the same store running.
    func syncAlone(progress: @Sendable (SyncProgress) -> Void) async throws -> SyncSummary {
        let (clientID, token) = try credentials()
        let run = store.startRun()
        var counts = SyncCounts()
        do {
            var cursor: Int64 = 0
            var resyncFor: ResyncReason?
            // A compaction or a restore may land during the resync itself (or between it and the push), so a
            // sync resyncs up to ``resyncAttempts`` times before it gives up; the next sync starts again, and
            // nothing is lost either way.
            for attempt in 1...Self.resyncAttempts {
                do {
                    if let reason = resyncFor {
                        counts.resynced = try await resync(token: token, run: run, reason: reason, progress: progress)
                    }
                    let own = try await push(
                        clientID: clientID, token: token, run: run, counts: &counts, progress: progress)
                    cursor = try await pull(token: token, run: run, own: own, counts: &counts, progress: progress)
                    break
                } catch let error as ClientError
                    where attempt < Self.resyncAttempts
                    && (error.serverCode == "server_restored" || error.serverCode == "cursor_expired")
                {
                    // Never from restored to expired: a restored server lacks what this device wrote after the
                    // backup, and only a restored resync sends it again (an expired one would drop it).
                    resyncFor =
                        error.serverCode == "server_restored" || resyncFor == .restored ? .restored : .expired
                }
            }
            let status = try store.status()
            let summary = SyncSummary(
                pushed: counts.pushed, pulled: counts.pulled, merged: counts.merged, conflicts: counts.conflicts,
                rejected: counts.rejected, openConflicts: status.openConflicts, pending: status.pendingMutations,
                cursor: cursor, resync: counts.resynced)
            try store.finishRun(run, status: status.openConflicts > 0 ? "conflicts" : "ok", counts: counts, error: nil)
            return summary
        } catch {
            try? store.finishRun(
                run, status: "failed", counts: counts,
                error: (error as? ClientError)?.logText ?? String(describing: error))
            throw error
        }
    }

    /// How many times one sync starts a resync before it reports the server's answer (1 + 3 retries).
    static let resyncAttempts = 4

    /// Only the push half of a sync (benchmarks time it on its own); logged as a run like a full sync.
    @discardableResult
    public func pushOnly() async throws -> SyncCounts {
        try await store.syncGate.run { try await pushOnlyAlone() }
    }

    func pushOnlyAlone() async throws -> SyncCounts {
        let (clientID, token) = try credentials()
        let run = store.startRun()
        var counts = SyncCounts()
        do {
            try await push(clientID: clientID, token: token, run: run, counts: &counts, progress: { _ in })
            try store.finishRun(run, status: "ok", counts: counts, error: nil, upToDate: false)
            return counts
        } catch {
            try? store.finishRun(
                run, status: "failed", counts: counts,
                error: (error as? ClientError)?.logText ?? String(describing: error))
            throw error
        }
    }

    func credentials() throws -> (UUID, String) {
        let settings = try store.settings()
        guard settings.isInitialized, let clientID = settings.clientID else {
            throw ClientError(
                .notInitialized, "This home is not set up for a server yet.", next: .setUp)
        }
        guard let token = settings.token else {
            throw ClientError(.notLoggedIn, "Not logged in (your writing stays here).", next: .logIn)
        }
        return (clientID, token)
    }

    /// Sends the outbox; returns the change-log sequence numbers the server gave this run's changes, so that the
    /// pull that follows can tell this device's own changes coming back from news.
    ///
    /// Batches go one at a time and in order (the server sees batch N + 1 only after it answered batch N), but the
    /// local work overlaps the server's: the next batch is read from the outbox while one is in flight, and the
    /// answer to a batch is recorded while the next one is in flight. Either can fail on its own without loss:
    /// an unanswered batch stays pending (marked sent, re-sent unchanged by the next sync).
    @discardableResult
    func push(
        clientID: UUID, token: String, run: SyncRun, counts: inout SyncCounts,
        progress: @Sendable (SyncProgress) -> Void
    ) async throws -> Set<Int64> {
        var own: Set<Int64> = []
        let total = try store.pendingCount()
        let settings = try store.settings()
        let (deviceName, epoch, cursor) = (settings.deviceName, settings.epoch, settings.cursor)
        let maxBytes = Limits.pushMaxBytes - 64 * 1024
        var sent = 0
        let transport = self.transport
        func send(_ batch: OutboxBatch) -> Task<PushResponse, any Error> {
            // The outbox's stored JSON goes as it is: decoding and encoding it again was the device's largest
            // share of the push's critical path (BENCHMARKS.md, session 9).
            let push = EncodedPush(
                clientID: clientID, mutations: batch.entries.map(\.json), deviceName: deviceName, epoch: epoch,
                cursor: cursor)
            return Task { try await transport.push(push, token: token) }
        }
        var batch = try store.nextBatch(maxCount: batchSize, maxBytes: maxBytes)
        if batch.entries.isEmpty { return own }
        var inFlight = send(batch)
        while true {
            let following: OutboxBatch
            do {
                following = try store.nextBatch(maxCount: batchSize, maxBytes: maxBytes, after: batch.lastSequence)
            } catch {
                _ = try? await inFlight.value
                throw error
            }
            let response: PushResponse
            do {
                response = try await inFlight.value
            } catch let error as ClientError
                where error.serverCode == "server_restored" || error.serverCode == "cursor_expired"
            {
                // Refused whole, before anything was applied: as far as the server is concerned these entries were
                // never sent (the batch read ahead was not sent at all).
                try? store.markUnsent(batch.newlySent + following.newlySent)
                throw error
            } catch {
                try? store.markUnsent(following.newlySent)
                throw error
            }
            // A batch the server did not answer in full stays pending; stop rather than loop on it.
            let complete = response.results.count >= batch.entries.count
            let next = complete && !following.entries.isEmpty ? send(following) : nil
            do {
                try store.applyPushResults(
                    run: run, entries: batch.entries, results: response.results, counts: &counts)
            } catch {
                _ = try? await next?.value
                throw error
            }
            own.formUnion(response.results.compactMap(\.sequence))
            sent += batch.entries.count
            progress(.pushing(sent: sent, total: max(total, sent)))
            guard let next else { break }
            batch = following
            inFlight = next
        }
        return own
    }

    /// Pulls and applies every page; `own` are the sequence numbers of this run's pushed changes, which are applied
    /// like any other but not counted as pulled (a member who just wrote something is not told it "arrived").
    func pull(
        token: String, run: SyncRun, own: Set<Int64> = [], counts: inout SyncCounts,
        progress: @Sendable (SyncProgress) -> Void
    ) async throws -> Int64 {
        // The next page is fetched while this one is applied, so that the server's work and the network overlap
        // the local writes. Pages are still applied one at a time and in order, each with its cursor in the same
        // transaction: a sync that stops anywhere resumes after the last page applied.
        let settings = try store.settings()
        var since = settings.cursor
        let epoch = settings.epoch
        var page = try await transport.pull(
            since: since, limit: pageSize, token: token, epoch: epoch, fullDownload: nil)
        while page.hasMore {
            let (transport, next, limit) = (self.transport, page.nextCursor, pageSize)
            async let following = transport.pull(
                since: next, limit: limit, token: token, epoch: epoch, fullDownload: nil)
            try store.applyPull(run: run, page: page, since: since, own: own, knownEpoch: epoch, counts: &counts)
            progress(.pulling(received: counts.pulled))
            since = next
            page = try await following
        }
        try store.applyPull(run: run, page: page, since: since, own: own, knownEpoch: epoch, counts: &counts)
        progress(.pulling(received: counts.pulled))
        return page.nextCursor
    }

    /// Downloads everything the server has for this member and rebuilds the local copy from it, keeping every
    /// local change (see `ClientStore+Resync`). Returns what it did; the sync log says so too.
    func resync(
        token: String, run: SyncRun, reason: ResyncReason, progress: @Sendable (SyncProgress) -> Void
    ) async throws -> ResyncReport {
        try store.beginResync()
        var reason = reason
        let knownEpoch = try store.settings().epoch
        var since: Int64 = 0
        var received = 0
        var resent = 0
        var epoch: String?
        var horizon: Int64?
        while true {
            // Later pages name the first page's epoch: a second restore during the resync is a 409, and the next
            // sync starts the resync again instead of mixing two histories.
            let page = try await transport.pull(
                since: since, limit: pageSize, token: token, epoch: epoch,
                fullDownload: DownloadFromZero(horizon: horizon))
            horizon = horizon ?? page.horizon
            // The data decides, not only the error that started the resync: a server whose epoch is not the one
            // this device last saw was restored (its pull may have said "expired" first), and what it lacks of
            // this device's writing must be sent again, never dropped.
            if since == 0, let knownEpoch, let serverEpoch = page.epoch, serverEpoch != knownEpoch {
                reason = .restored
            }
            resent += try store.applyResyncPage(run: run, page: page, reason: reason)
            received += page.changes.count
            epoch = page.epoch ?? epoch
            since = page.nextCursor
            progress(.pulling(received: received))
            if !page.hasMore { break }
        }
        return try store.finishResync(
            run: run, reason: reason, cursor: since, epoch: epoch, received: received, resentSoFar: resent)
    }
}
