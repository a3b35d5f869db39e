import Foundation
import Hummingbird
import Prometheus
import ReflectionsModel
import Synchronization

/// What `GET /metrics` reports (Prometheus text format), on its own listener (`reflectd serve --metrics-port`).
///
/// Labels hold only routes as the router declares them (`/v1/sync/pull`, never a path with an id in it),
/// methods, statuses and outcomes: no member, handle, token, record id or address ever becomes a label. One
/// registry per server (not the process-wide `MetricsSystem`), so that servers in one process — tests — keep
/// their own figures.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private static var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "reflect", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests on the members' port, by route, method and status.")
    }
    private static var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "reflect", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time from a request's head to its response's head (a change stream counts until it opens).")
    }
    private static var mutationsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "reflect", subsystem: "sync", metricName: "mutations", unitName: "total",
            helpText: "Pushed mutations by outcome (applied, merged, conflict, rejected, duplicate).")
    }
    private let pulled: Counter
    private let failedLogins: Counter
    private let streams: Gauge
    private let databaseBytes: Gauge
    private let head: Gauge
    static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init() {
        pulled = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "reflect", subsystem: "sync", metricName: "records_pulled", unitName: "total",
                helpText: "Changes sent in pull pages."))
        failedLogins = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "reflect", subsystem: "auth", metricName: "failed_logins", unitName: "total",
                helpText: "Logins refused: a wrong password, an unknown or disabled handle, or throttled."))
        streams = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "reflect", subsystem: "sync", metricName: "event_streams_open",
                helpText: "Open change streams (GET /v1/sync/events)."))
        databaseBytes = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "reflect", subsystem: "store", metricName: "database_size", unitName: "bytes",
                helpText: "The database's size on disk (SQLite: file and WAL; PostgreSQL: pg_database_size)."))
        head = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "reflect", subsystem: "store", metricName: "change_log_head",
                helpText: "The newest sequence number of the change log."))
    }

    /// One answered request. `route` is the router's pattern, or "unmatched".
    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.requestsDescriptor,
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.durationDescriptor, labels: [("route", route), ("method", method)], buckets: Self.buckets
        ).record(duration)
    }

    func mutations(_ results: [MutationResult]) {
        var counts: [String: Int64] = [:]
        for result in results { counts[result.outcome.rawValue, default: 0] += 1 }
        for (outcome, count) in counts {
            registry.makeCounter(descriptor: Self.mutationsDescriptor, labels: [("outcome", outcome)]).increment(
                by: count)
        }
    }

    func pulled(_ count: Int) { pulled.increment(by: Int64(count)) }

    func failedLogin() { failedLogins.increment() }

    /// The text of a scrape: the gauges read now, then every metric.
    public func scrape(store: any ServerStore, hub: EventHub) async -> String {
        streams.set(Int64(hub.openStreams))
        if let size = try? await store.databaseBytes() { databaseBytes.set(size) }
        if let newest = try? await store.head() { head.set(newest) }
        return registry.emitToString()
    }
}

/// Counts every request on the members' port into ``ServerMetrics``, errors included (by the status they are
/// answered with).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ReflectContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: ReflectContext, next: (Request, ReflectContext) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        let route = { context.endpointPath ?? "unmatched" }
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.request(
                route: route(), method: method, status: response.status.code, duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: route(), method: method, status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }
}
