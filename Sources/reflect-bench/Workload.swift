import Foundation
import ReflectionsModel

/// The standard sync workload (`shared/workload.md`), generated deterministically from a seed.
///
/// N records: N/2 reflections and N/2 comments. Reflections: title 45–75 characters; body normal(1500, 250)
/// characters clamped to 600–2,600, sentences of 7–22 words, a paragraph break every 5 sentences, a little
/// non-ASCII; a prompt; community:private = 2:1. Comments: 180–420 characters on a uniformly chosen community
/// reflection. Authors are drawn from `members` members.
struct Workload {
    struct ReflectionSpec {
        var id: UUID
        var author: Int
        var title: String
        var body: String
        var prompt: Int
        var visibility: Visibility
    }

    struct CommentSpec {
        var id: UUID
        var reflection: Int
        var author: Int
        var body: String
    }

    var reflections: [ReflectionSpec] = []
    var comments: [CommentSpec] = []

    static let words = [
        "the", "we", "listen", "patients", "ward", "team", "care", "equity", "race", "change", "practice", "trust",
        "voices", "community", "learning", "allyship", "colleagues", "honest", "conversation", "bias", "data",
        "outcomes", "families", "nurses", "doctors", "quality", "improvement", "safety", "respect", "power", "history",
        "policy", "action", "awareness", "and", "of", "to", "in", "with", "for", "about", "how", "our", "their",
    ]
    static let nonASCII = ["naïve", "café", "São Paulo", "Māori", "Zoë", "déjà vu", "Ngā mihi", "Łódź"]

    init(n: Int, seed: UInt64, members: Int) {
        var rng = SeededGenerator(seed: seed)
        func uuid() -> UUID {
            var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes[6] = (bytes[6] & 0x0F) | 0x40
            bytes[8] = (bytes[8] & 0x3F) | 0x80
            return UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                    bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
        }
        func sentence() -> String {
            let count = Int.random(in: 7...22, using: &rng)
            var parts = (0..<count).map { _ in Self.words.randomElement(using: &rng)! }
            if Int.random(in: 0..<12, using: &rng) == 0 {
                parts[Int.random(in: 0..<count, using: &rng)] = Self.nonASCII.randomElement(using: &rng)!
            }
            let text = parts.joined(separator: " ")
            return text.prefix(1).uppercased() + text.dropFirst() + "."
        }
        func normal(mean: Double, sd: Double) -> Double {
            let u1 = max(Double.random(in: 0..<1, using: &rng), 1e-12)
            let u2 = Double.random(in: 0..<1, using: &rng)
            return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        }
        let half = n / 2
        for _ in 0..<half {
            let target = Int(min(2600, max(600, normal(mean: 1500, sd: 250))))
            var body = ""
            var sentences = 0
            while body.count < target {
                if sentences > 0 { body += sentences % 5 == 0 ? "\n\n" : " " }
                body += sentence()
                sentences += 1
            }
            let titleLength = Int.random(in: 45...75, using: &rng)
            var title = ""
            while title.count < titleLength {
                title += (title.isEmpty ? "" : " ") + Self.words.randomElement(using: &rng)!
            }
            title = String(title.prefix(titleLength)).trimmingCharacters(in: .whitespaces)
            reflections.append(
                ReflectionSpec(
                    id: uuid(), author: Int.random(in: 0..<members, using: &rng),
                    title: title.prefix(1).uppercased() + title.dropFirst(),
                    body: body, prompt: Int.random(in: 1...6, using: &rng),
                    visibility: Int.random(in: 0..<3, using: &rng) < 2 ? .community : .private))
        }
        let community = reflections.indices.filter { reflections[$0].visibility == .community }
        for _ in 0..<(n - half) where !community.isEmpty {
            let length = Int.random(in: 180...420, using: &rng)
            var body = ""
            while body.count < length { body += (body.isEmpty ? "" : " ") + sentence() }
            comments.append(
                CommentSpec(
                    id: uuid(), reflection: community.randomElement(using: &rng)!,
                    author: Int.random(in: 0..<members, using: &rng),
                    body: String(body.prefix(length))))
        }
    }
}
