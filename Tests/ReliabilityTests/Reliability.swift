import Foundation
import Synchronization

/// Collects the figures of reliability tests; each is printed as one line `reliability: NAME {json}` so that
/// `Scripts/reliability.sh` can gather them into RELIABILITY.md.
enum Reliability {
    static func record(_ name: String, _ figures: [String: Int]) {
        let data = (try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])) ?? Data()
        print("reliability: \(name) \(String(decoding: data, as: UTF8.self))")
    }
}
