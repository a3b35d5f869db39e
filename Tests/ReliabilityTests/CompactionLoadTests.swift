import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Synchronization
import Testing

/// Compaction on a live server while devices write and sync over HTTPS: no acknowledged write is lost, nothing
/// deleted comes back, no private reflection reaches another member, and every device converges.
@Suite struct CompactionLoadTests {
    /// What one device wrote: its own records' latest text (nil: it deleted the record).
    final class Ledger: @unchecked Sendable {
        var texts: [UUID: String?] = [:]
        var shared: Set<UUID> = []
    }

    /// What the writers and the compactor share.
    final class Progress: Sendable {
        let writing = Atomic<Int>(3)
        let figures = Mutex((runs: 0, tombstones: 0, resyncs: 0, gaveUp: 0))
    }

    @Test func compactingWhileDevicesPushLosesNothing() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let phone = try await Device.make(server, handle: "amara", register: false)
            let bo = try await Device.make(server, handle: "bo.k", register: true)
            let tablet = try await Device.make(server, handle: "bo.k", register: false)
            do {
                try await Self.run(server, laptop, phone, bo, reader: tablet)
            } catch {
                Issue.record(error)
            }
            for device in [laptop, phone, bo, tablet] { try await device.close() }
        }
    }

    /// Writers on three devices and a compactor, then the checks.
    static func run(_ server: LiveServer, _ laptop: Device, _ phone: Device, _ bo: Device, reader tablet: Device)
        async throws
    {
        // Reflections that stay, for Bo to comment on.
        let pinned = try (0..<3).map { index in
            try laptop.store.write(title: "Pinned \(index)", body: "Stays.\n", visibility: .community).id
        }
        for device in [laptop, phone, bo, tablet] { try await device.sync() }

        let progress = Progress()
        async let compactor: Void = Self.compactor(server.store, progress)
        async let reader: Void = Self.reader(tablet, progress)
        async let laptopLedger = Self.writer(laptop, seed: 1, comments: false, pinned: pinned, progress)
        async let phoneLedger = Self.writer(phone, seed: 2, comments: false, pinned: pinned, progress)
        async let boLedger = Self.writer(bo, seed: 3, comments: true, pinned: pinned, progress)
        let ledgers = try await [laptopLedger, phoneLedger, boLedger]
        try await compactor
        try await reader
        _ = try await server.store.compact(keepDays: 0, now: WallClock.system.now() + 1)
        for _ in 0..<2 { for device in [laptop, phone, bo, tablet] { try await device.sync() } }

        let figures = progress.figures.withLock { $0 }
        Reliability.record(
            "compaction_under_load",
            [
                "compactions": figures.runs, "tombstones_compacted": figures.tombstones, "resyncs": figures.resyncs,
                "syncs_that_gave_up": figures.gaveUp,
            ])
        #expect(figures.runs > 1)
        #expect(figures.tombstones > 0)
        #expect(figures.resyncs > 0)
        #expect(figures.gaveUp < figures.resyncs)
        // Every device: nothing pending, nothing refused.
        for device in [laptop, phone, bo, tablet] {
            #expect(try device.store.status().pendingMutations == 0)
            #expect(try device.store.outbox().isEmpty)
        }
        // Amara's devices show exactly what her two devices last wrote, the pinned reflections and Bo's
        // comments on them.
        var amaraExpected: [UUID: String] = [:]
        for id in pinned { amaraExpected[id] = "Stays.\n" }
        for ledger in ledgers.prefix(2) {
            for case (let id, let text?) in ledger.texts { amaraExpected[id] = text }
        }
        let boComments = ledgers[2].texts.compactMapValues { $0 }
        #expect(boComments.count > 0)
        let amaraSees = try laptop.texts()
        #expect(try phone.texts() == amaraSees)
        #expect(amaraSees == amaraExpected.merging(boComments) { a, _ in a })
        // Bo sees Amara's shared, living reflections and his own comments, never a private one.
        let sharedLive = amaraExpected.filter { id, _ in
            pinned.contains(id) || ledgers.prefix(2).contains { $0.shared.contains(id) }
        }
        #expect(sharedLive.count < amaraExpected.count)
        #expect(try bo.texts() == sharedLive.merging(boComments) { a, _ in a })
        // Bo's tablet only reads (its syncs are pulls, never pushes): the same.
        #expect(try tablet.texts() == sharedLive.merging(boComments) { a, _ in a })
    }

    /// Compacts everything deleted so far, every 15 ms, while any writer runs.
    static func compactor(_ store: any ServerStore, _ progress: Progress) async throws {
        while progress.writing.load(ordering: .relaxed) > 0 {
            let report = try await store.compact(keepDays: 0, now: WallClock.system.now() + 1)
            progress.figures.withLock {
                $0.runs += 1
                $0.tombstones += report.tombstones
            }
            try await Task.sleep(for: .milliseconds(15))
        }
    }

    /// A device that only reads: syncs every 10 ms while any writer runs (its syncs are pulls alone).
    static func reader(_ device: Device, _ progress: Progress) async throws {
        while progress.writing.load(ordering: .relaxed) > 0 {
            do {
                if try await device.sync().resync != nil { progress.figures.withLock { $0.resyncs += 1 } }
            } catch let error as ClientError where error.serverCode == "cursor_expired" {
                progress.figures.withLock { $0.gaveUp += 1 }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Writes, edits and deletes on one device, syncing now and then. Each device edits and deletes only what it
    /// wrote itself, so the expected end state is known without any merge: compaction and resyncs are what is
    /// under test.
    static func writer(_ device: Device, seed: UInt64, comments: Bool, pinned: [UUID], _ progress: Progress)
        async throws -> Ledger
    {
        defer { progress.writing.subtract(1, ordering: .relaxed) }
        var rng = SeededGenerator(seed: seed)
        let ledger = Ledger()
        for round in 0..<80 {
            let live = ledger.texts.filter { $0.value != nil }.map(\.key).sorted { $0.uuidString < $1.uuidString }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4 where !comments:
                let shared = Bool.random(using: &rng)
                let text = "Written \(seed)/\(round).\n"
                let id = try device.store.write(
                    title: "R\(round)", body: text, visibility: shared ? .community : .private
                ).id
                ledger.texts[id] = text
                if shared { ledger.shared.insert(id) }
            case 0..<4:
                let text = "Comment \(seed)/\(round)."
                let on = pinned[Int.random(in: 0..<pinned.count, using: &rng)]
                ledger.texts[try device.store.comment(on: on, body: text).id] = text
            case 4..<7 where !live.isEmpty:
                let id = live.randomElement(using: &rng)!
                let text = comments ? "Edited \(seed)/\(round)." : "Edited \(seed)/\(round).\n"
                if comments {
                    try device.store.editComment(id: id, body: text)
                } else {
                    _ = try device.store.edit(id: id, body: text)
                }
                ledger.texts[id] = text
            case 7..<9 where !live.isEmpty:
                let id = live.randomElement(using: &rng)!
                try device.store.delete(comments ? .comment : .reflection, id: id)
                ledger.texts[id] = .some(nil)
            default:
                break
            }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                // With everything compacted every 15 ms, a sync may meet a new horizon on each of its resyncs and
                // give up (the next one starts again): counted, never a loss.
                do {
                    if try await device.sync().resync != nil { progress.figures.withLock { $0.resyncs += 1 } }
                } catch let error as ClientError where error.serverCode == "cursor_expired" {
                    progress.figures.withLock { $0.gaveUp += 1 }
                }
            }
        }
        return ledger
    }
}
