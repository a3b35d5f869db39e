import ReflectionsModel
import Testing

@Suite struct HybridLogicalClockTests {
    @Test func followsTheWallClockWhenItMovesForward() {
        var clock = HybridLogicalClock(node: "a")
        #expect(clock.tick(now: 1_000) == HLCTimestamp(physical: 1_000, counter: 0, node: "a"))
        #expect(clock.tick(now: 2_000) == HLCTimestamp(physical: 2_000, counter: 0, node: "a"))
    }

    @Test func staysMonotonicWhenTheWallClockJumpsBack() {
        var clock = HybridLogicalClock(node: "a")
        let first = clock.tick(now: 10_000)
        let day: Int64 = 86_400_000
        let second = clock.tick(now: 10_000 - 3 * day)
        let third = clock.tick(now: 10_000 - 3 * day + 5)
        #expect(first < second && second < third)
        #expect(third.physical == 10_000)
        // Once the wall clock passes the last reading again, readings follow it.
        let fourth = clock.tick(now: 20_000)
        #expect(fourth == HLCTimestamp(physical: 20_000, counter: 0, node: "a"))
    }

    @Test func absorbsARemoteClockDaysAhead() {
        var local = HybridLogicalClock(node: "local")
        var remote = HybridLogicalClock(node: "remote")
        let day: Int64 = 86_400_000
        let now: Int64 = 1_800_000_000_000
        let far = remote.tick(now: now + 5 * day)
        let seen = local.observe(far, now: now)
        #expect(seen > far)
        #expect(local.tick(now: now + 1) > seen)
    }

    @Test func randomWallClocksNeverMakeReadingsGoBack() {
        for seed in UInt64(1)...200 {
            var rng = SeededGenerator(seed: seed)
            var a = HybridLogicalClock(node: "a")
            var b = HybridLogicalClock(node: "b")
            var wall: Int64 = 1_700_000_000_000
            var lastA = HLCTimestamp.zero
            for _ in 0..<200 {
                wall += Int64.random(in: -86_400_000...86_400_000, using: &rng)
                let reading: HLCTimestamp
                if Bool.random(using: &rng) {
                    reading = a.tick(now: wall)
                } else {
                    reading = a.observe(b.tick(now: wall + Int64.random(in: -5_000...5_000, using: &rng)), now: wall)
                }
                #expect(reading > lastA, "seed \(seed)")
                lastA = reading
            }
        }
    }

    @Test func counterOverflowMovesToTheNextMillisecond() {
        var clock = HybridLogicalClock(node: "a", last: HLCTimestamp(physical: 5, counter: .max, node: "a"))
        let next = clock.tick(now: 1)
        #expect(next == HLCTimestamp(physical: 6, counter: 0, node: "a"))
    }
}
