// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "guesthouse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "guesthouse", targets: ["guesthouse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", exact: "2.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", exact: "5.7.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        .target(
            name: "Libvirt",
            dependencies: [
                "CLibvirt",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "GuesthouseCore",
            dependencies: ["CZlib", "CLibxml2", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // libvirt's own XML library, read directly: FoundationXML would install a process-wide entity
        // loader in this libxml2 that calls back into Foundation from libvirt's threads.
        .systemLibrary(
            name: "CLibxml2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "GuesthouseConfig",
            dependencies: [
                "GuesthouseCore",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(
            name: "GuesthouseLibvirt",
            dependencies: [
                "Libvirt",
                "GuesthouseCore",
                "GuesthouseConfig",
                "GuesthouseOverlay",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "GuesthouseVmango",
            dependencies: [
                "Libvirt",
                "GuesthouseCore",
                "GuesthouseConfig",
                "GuesthouseLibvirt",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "GuesthouseSpool",
            dependencies: [
                "GuesthouseCore",
                "GuesthouseConfig",
                "GuesthouseLibvirt",
                "Libvirt",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "GuesthouseOverlay",
            dependencies: ["GuesthouseCore", "GuesthouseConfig"]
        ),
        .target(
            name: "GuesthouseContainers",
            dependencies: ["GuesthouseCore", "GuesthouseConfig", "GuesthouseLibvirt", "GuesthouseOverlay", "Libvirt"]
        ),
        .target(
            name: "GuesthouseServer",
            dependencies: [
                "GuesthouseCore",
                "GuesthouseConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OpenAPIKit30", package: "OpenAPIKit"),
            ],
            resources: [
                .embedInCode("Web/Resources/console-vnc.js"),
                .embedInCode("Web/Resources/console-serial.js"),
                .embedInCode("Web/Resources/console.css"),
            ]
        ),
        .target(
            name: "GuesthouseClient",
            dependencies: [
                "GuesthouseCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // What the `guesthouse bench*` commands set up (scratch providers and wirt users, daemons, a
        // standalone connection pool), shared with the tests through GuesthouseTestSupport.
        .target(
            name: "GuesthouseBench",
            dependencies: [
                "Libvirt", "GuesthouseCore", "GuesthouseConfig", "GuesthouseLibvirt", "GuesthouseSpool",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Test-only support, never linked into the server binary.
        .target(
            name: "GuesthouseTestSupport",
            dependencies: [
                "GuesthouseBench", "Libvirt", "GuesthouseCore", "GuesthouseConfig", "GuesthouseLibvirt",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "guesthouse",
            dependencies: [
                "GuesthouseServer",
                "GuesthouseLibvirt",
                "GuesthouseConfig",
                "GuesthouseSpool",
                "GuesthouseVmango",
                "GuesthouseOverlay",
                "GuesthouseContainers",
                "GuesthouseClient",
                "GuesthouseBench",
                "Libvirt",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
            ],
            linkerSettings: [
                // Release: lld, with relative relocations packed (DT_RELR, glibc 2.36+). With gold the
                // loader read 1.5 MB of relocations at every start, 49,000 of them relative (24 bytes
                // each); packed those take 14 KB (README, Benchmark: RSS).
                .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                             .when(configuration: .release)),
            ]
        ),
        .testTarget(
            name: "LibvirtTests",
            dependencies: ["Libvirt", "GuesthouseCore", "GuesthouseLibvirt", "GuesthouseTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "WirtTests",
            dependencies: [
                "GuesthouseSpool", "GuesthouseConfig", "GuesthouseCore", "GuesthouseLibvirt", "GuesthouseTestSupport", "Libvirt",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "GuesthouseCoreTests",
            dependencies: ["GuesthouseCore", "GuesthouseConfig", "GuesthouseTestSupport"],
            resources: [.copy("Golden")]
        ),
        .testTarget(
            name: "GuesthouseServerTests",
            dependencies: [
                "GuesthouseServer", "GuesthouseLibvirt", "GuesthouseConfig", "GuesthouseVmango", "GuesthouseTestSupport", "Libvirt",
                "GuesthouseClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "OpenAPIKit30", package: "OpenAPIKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ]
        ),
        .testTarget(
            name: "ContainerTests",
            dependencies: [
                "GuesthouseContainers", "GuesthouseOverlay", "GuesthouseServer", "GuesthouseLibvirt",
                "GuesthouseConfig", "GuesthouseCore", "GuesthouseTestSupport", "Libvirt",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ]
        ),
    ]
)
