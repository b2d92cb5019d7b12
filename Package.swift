// swift-tools-version:6.0
import PackageDescription

/// One list of settings for every target, so the whole package builds under the same rules.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// What every service stands on: the host, the bus, storage and the small helpers under them.
let runtime: [Target.Dependency] = ["ServiceKit", "Messaging", "ServiceStorage", "AMQPClient", "RuntimeSupport"]

/// Every service executable has the same shape: a thin `@main` over `ServiceKit` and `Contracts`.
func service(_ name: String, dependencies: [Target.Dependency] = [], resources: [Resource]? = nil) -> Target {
    .executableTarget(
        name: name,
        dependencies: runtime + ["Contracts", .product(name: "ArgumentParser", package: "swift-argument-parser")] + dependencies,
        resources: resources,
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "aiwf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "TemplateService", targets: ["TemplateService"]),
        .executable(name: "StageService", targets: ["StageService"]),
        .executable(name: "ProviderGateway", targets: ["ProviderGateway"]),
        .executable(name: "ApprovalService", targets: ["ApprovalService"]),
        .executable(name: "Gateway", targets: ["Gateway"]),
        .executable(name: "aiwf-bench", targets: ["Benchmarks"]),
        .executable(name: "aiwf", targets: ["AIWFCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", exact: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/JohnSundell/Ink", exact: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbit",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "Contracts", swiftSettings: swiftSettings),
        // The runtime, one target per concern, so each takes only what it uses.
        .target(
            name: "RuntimeSupport", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(
            name: "AMQPClient",
            dependencies: [
                "CRabbit",
                "RuntimeSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Messaging",
            dependencies: [
                "AMQPClient",
                "RuntimeSupport",
                "Contracts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceStorage",
            dependencies: [
                "Messaging",
                "RuntimeSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "AMQPClient",
                "Messaging",
                "ServiceStorage",
                "RuntimeSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SignedHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WorkflowKit",
            dependencies: [
                "Contracts",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        // The offline provider's writer, and a whole workflow played with it (for the deliverables' benchmark and tests).
        .target(name: "OfflineDrafts", dependencies: ["Contracts", "WorkflowKit"], swiftSettings: swiftSettings),
        // What the built-in workflows deliver: sites, books, courses, surveys and videos built from approved outputs.
        .target(
            name: "Deliverables",
            dependencies: [
                "Contracts",
                .product(name: "Ink", package: "Ink"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        service(
            "TemplateService",
            dependencies: ["WorkflowKit", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "FakeProvider",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        service(
            "StageService",
            dependencies: [
                "WorkflowKit",
                "Deliverables",
                "SignedHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        service(
            "ProviderGateway",
            dependencies: [
                "WorkflowKit",
                "OfflineDrafts",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        service(
            "ApprovalService",
            dependencies: [
                "CCurl",
                "SignedHTTP",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        service(
            "Gateway",
            dependencies: [
                "Deliverables",
                "WorkflowKit",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The portal's Mustache templates, its one stylesheet and its one script.
            resources: [.copy("Portal/Templates"), .copy("Portal/Assets")]
        ),
        .executableTarget(
            name: "AIWFCommand",
            dependencies: [
                "Contracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Benchmarks",
            dependencies: [
                "Deliverables",
                "OfflineDrafts",
                "AMQPClient",
                "Messaging",
                "RuntimeSupport",
                "Contracts",
                "FakeProvider",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "ServiceTestSupport", path: "Tests/ServiceTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "ContractsTests",
            dependencies: ["Contracts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeliverablesTests",
            dependencies: [
                "Deliverables", "OfflineDrafts", "WorkflowKit", "Contracts", "ServiceTestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // The Python checkers are run from the repository by path, not from the test bundle.
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowKitTests",
            dependencies: ["WorkflowKit", "Contracts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TemplateServiceTests",
            dependencies: ["TemplateService", "Contracts", "WorkflowKit", "ServiceTestSupport"] + runtime,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProviderGatewayTests",
            dependencies: [
                "ProviderGateway", "OfflineDrafts", "Contracts", "WorkflowKit", "FakeProvider", "ServiceTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ] + runtime,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ApprovalServiceTests",
            dependencies: [
                "ApprovalService", "Contracts", "ServiceTestSupport", "SignedHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ] + runtime,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "StageService", "TemplateService", "ApprovalService", "Contracts", "ServiceTestSupport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ] + runtime,
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StageServiceTests",
            dependencies: [
                "StageService", "ProviderGateway", "OfflineDrafts", "Deliverables", "Contracts", "WorkflowKit", "ServiceTestSupport",
                "SignedHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ] + runtime,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                "Contracts",
                "ServiceTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ] + runtime,
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
