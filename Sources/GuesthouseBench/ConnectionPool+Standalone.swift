import CoreMetrics
import GuesthouseLibvirt
import Libvirt
import Logging

extension ConnectionPool {
    /// A pool with an executor, a deadline watch and locks of its own, as the build function makes
    /// them for a server: for benchmarks and tests, each of which stands for one server (replica).
    /// The executor is `pool.executor`.
    public static func standalone(threads: Int = 4, connectTimeout: Double = 10,
                                logger: Logger = Logger(label: "guesthouse.standalone"),
                                metrics: any MetricsFactory = NOOPMetricsHandler.instance,
                                downloadHelper: VolumeDownloadHelper? = nil) -> ConnectionPool {
        ConnectionPool(executor: LibvirtExecutor(threads: threads), deadlines: DeadlineWatch(), locks: LibvirtLocks(),
                       connectTimeout: connectTimeout, logger: logger, metrics: metrics, downloadHelper: downloadHelper)
    }
}
