/// A minimal line or word diff (Myers, 1986), used by the merge and to show a conflict against its base.
public enum Diff {
    /// A run of tokens that differs between two sequences: `a[aStart..<aEnd]` became `b[bStart..<bEnd]`.
    public struct Hunk: Hashable, Sendable {
        public var aStart: Int
        public var aEnd: Int
        public var bStart: Int
        public var bEnd: Int

        public init(aStart: Int, aEnd: Int, bStart: Int, bEnd: Int) {
            self.aStart = aStart
            self.aEnd = aEnd
            self.bStart = bStart
            self.bEnd = bEnd
        }
    }

    /// Above this many edits the diff gives up on precision and reports the whole differing middle as one hunk.
    /// That is always correct (only coarser), and bounds time and memory on texts rewritten from end to end.
    public static let maxEdits = 2000

    /// The hunks that turn `a` into `b`, in order, separated by at least one equal token.
    ///
    /// Deterministic: the same inputs always give the same hunks.
    public static func hunks<T: Equatable>(_ a: [T], _ b: [T]) -> [Hunk] {
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix
            && a[a.count - 1 - suffix] == b[b.count - 1 - suffix]
        {
            suffix += 1
        }
        let aMid = Array(a[prefix..<(a.count - suffix)])
        let bMid = Array(b[prefix..<(b.count - suffix)])
        if aMid.isEmpty && bMid.isEmpty { return [] }
        if aMid.isEmpty || bMid.isEmpty {
            return [Hunk(aStart: prefix, aEnd: prefix + aMid.count, bStart: prefix, bEnd: prefix + bMid.count)]
        }
        guard let matches = myersMatches(aMid, bMid) else {
            return [Hunk(aStart: prefix, aEnd: prefix + aMid.count, bStart: prefix, bEnd: prefix + bMid.count)]
        }
        var result: [Hunk] = []
        var ai = 0
        var bi = 0
        for (x, y) in matches {
            if x > ai || y > bi {
                result.append(Hunk(aStart: prefix + ai, aEnd: prefix + x, bStart: prefix + bi, bEnd: prefix + y))
            }
            ai = x + 1
            bi = y + 1
        }
        if ai < aMid.count || bi < bMid.count {
            result.append(
                Hunk(aStart: prefix + ai, aEnd: prefix + aMid.count, bStart: prefix + bi, bEnd: prefix + bMid.count))
        }
        return result
    }

    /// The matched index pairs of a shortest edit script, in ascending order; `nil` past ``maxEdits``.
    private static func myersMatches<T: Equatable>(_ a: [T], _ b: [T]) -> [(Int, Int)]? {
        let n = a.count
        let m = b.count
        let limit = min(n + m, maxEdits)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        var snapshots: [[Int]] = []  // snapshots[d][k + d] = furthest x on diagonal k after step d
        var found = -1
        outer: for d in 0...limit {
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m {
                    snapshots.append(Array(v[(offset - d)...(offset + d)]))
                    found = d
                    break outer
                }
            }
            snapshots.append(Array(v[(offset - d)...(offset + d)]))
        }
        guard found >= 0 else { return nil }
        var matches: [(Int, Int)] = []
        var x = n
        var y = m
        var d = found
        while d > 0 {
            let previous = snapshots[d - 1]
            func at(_ k: Int) -> Int { previous[k + d - 1] }
            let k = x - y
            let down = k == -d || (k != d && at(k - 1) < at(k + 1))
            let prevK = down ? k + 1 : k - 1
            let prevX = at(prevK)
            let prevY = prevX - prevK
            let midX = down ? prevX : prevX + 1
            let midY = down ? prevY + 1 : prevY
            while x > midX && y > midY {
                x -= 1
                y -= 1
                matches.append((x, y))
            }
            x = prevX
            y = prevY
            d -= 1
        }
        while x > 0 && y > 0 {
            x -= 1
            y -= 1
            matches.append((x, y))
        }
        return matches.reversed()
    }
}
