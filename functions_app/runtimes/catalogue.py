"""Every runtime ID Appwrite 1.8.0 knows (appwrite/php-runtimes 0.19.1), in its order.

Creating a function with an ID outside this list is a parameter error; an ID in this list
that this instance has no image recipe for is ``function_runtime_unsupported``."""

ALL_ARCH = ["x86", "arm64", "armv7", "armv8"]
X86_ARM = ["x86", "arm64"]

# (key, display name, [(version, base image, supports)])
FAMILIES = [
    (
        "node",
        "Node.js",
        [
            ("14.5", "node:14.5.0-alpine3.12", ALL_ARCH),
            ("16.0", "node:16.20.2-alpine3.18", ALL_ARCH),
            ("18.0", "node:18.20.4-alpine3.20", ALL_ARCH),
            ("19.0", "node:19.9.0-alpine3.18", X86_ARM),
            ("20.0", "node:20.17.0-alpine3.20", X86_ARM),
            ("21.0", "node:21.7.3-alpine3.20", X86_ARM),
            ("22", "node:22.9.0-alpine3.20", X86_ARM),
        ],
    ),
    (
        "php",
        "PHP",
        [
            ("8.0", "php:8.0.30-cli-alpine3.16", ALL_ARCH),
            ("8.1", "php:8.1.30-cli-alpine3.20", ALL_ARCH),
            ("8.2", "php:8.2.24-cli-alpine3.20", ALL_ARCH),
            ("8.3", "php:8.3.12-cli-alpine3.20", ALL_ARCH),
        ],
    ),
    (
        "ruby",
        "Ruby",
        [
            ("3.0", "ruby:3.0.7-alpine3.16", ALL_ARCH),
            ("3.1", "ruby:3.1.6-alpine3.20", ALL_ARCH),
            ("3.2", "ruby:3.2.5-alpine3.20", ALL_ARCH),
            ("3.3", "ruby:3.3.5-alpine3.20", ALL_ARCH),
        ],
    ),
    (
        "python",
        "Python",
        [
            ("3.8", "python:3.8.20-alpine3.20", ALL_ARCH),
            ("3.9", "python:3.9.20-alpine3.20", ALL_ARCH),
            ("3.10", "python:3.10.15-alpine3.20", ALL_ARCH),
            ("3.11", "python:3.11.10-alpine3.20", ALL_ARCH),
            ("3.12", "python:3.12.6-alpine3.20", ALL_ARCH),
        ],
    ),
    (
        "python-ml",
        "Python (ML)",
        [
            ("3.11", "python:3.11.10-bookworm", X86_ARM),
            ("3.12", "python:3.12.6-bookworm", X86_ARM),
        ],
    ),
    (
        "deno",
        "Deno",
        [
            ("1.21", "denoland/deno:alpine-1.21.3", ["x86"]),
            ("1.24", "denoland/deno:alpine-1.24.3", ["x86"]),
            ("1.35", "denoland/deno:alpine-1.35.3", ["x86"]),
            ("1.40", "denoland/deno:alpine-1.40.5", X86_ARM),
            ("1.46", "denoland/deno:alpine-1.46.3", X86_ARM),
            ("2.0", "denoland/deno:alpine-2.0.0-rc.5", X86_ARM),
        ],
    ),
    (
        "dart",
        "Dart",
        [
            (v, f"dart:{b}", ALL_ARCH)
            for v, b in [
                ("2.15", "2.15.1"),
                ("2.16", "2.16.2"),
                ("2.17", "2.17.7"),
                ("2.18", "2.18.7"),
                ("2.19", "2.19.6"),
                ("3.0", "3.0.7"),
                ("3.1", "3.1.5"),
                ("3.3", "3.3.4"),
                ("3.5", "3.5.2"),
                ("3.8", "3.8"),
            ]
        ],
    ),
    (
        "dotnet",
        ".NET",
        [
            ("6.0", "mcr.microsoft.com/dotnet/sdk:6.0.425-alpine3.19", ALL_ARCH),
            ("7.0", "mcr.microsoft.com/dotnet/sdk:7.0.410-alpine3.19", ALL_ARCH),
            ("8.0", "mcr.microsoft.com/dotnet/sdk:8.0.402-alpine3.19", ALL_ARCH),
        ],
    ),
    (
        "java",
        "Java",
        [
            (v, f"eclipse-temurin:{v.split('.')[0]}-jdk-jammy", ALL_ARCH)
            for v in ["8.0", "11.0", "17.0", "18.0", "21.0", "22"]
        ],
    ),
    (
        "swift",
        "Swift",
        [
            ("5.5", "swiftarm/swift:5.5.3-ubuntu-jammy", ALL_ARCH),
            ("5.8", "swiftarm/swift:5.8.1-ubuntu-22.04", ALL_ARCH),
            ("5.9", "swiftarm/swift:5.9.2-ubuntu-22.04", ALL_ARCH),
            ("5.10", "swiftarm/swift:5.10-ubuntu-22.04", ALL_ARCH),
        ],
    ),
    (
        "kotlin",
        "Kotlin",
        [
            ("1.6", "eclipse-temurin:18-jdk-alpine", ALL_ARCH),
            ("1.8", "eclipse-temurin:19-jdk-alpine", ALL_ARCH),
            ("1.9", "eclipse-temurin:19-jdk-alpine", ALL_ARCH),
            ("2.0", "eclipse-temurin:22-jdk-alpine", ALL_ARCH),
        ],
    ),
    ("cpp", "C++", [("17", "alpine:3.20.2", ALL_ARCH), ("20", "alpine:3.20.2", ALL_ARCH)]),
    (
        "bun",
        "Bun",
        [("1.0", "oven/bun:1.0.36-alpine", X86_ARM), ("1.1", "oven/bun:1.1.29-alpine", X86_ARM)],
    ),
    ("go", "Go", [("1.23", "golang:1.23.1-alpine3.20", X86_ARM)]),
    ("static", "Static", [("1", "joseluisq/static-web-server:2.33-alpine", X86_ARM)]),
    (
        "flutter",
        "Flutter",
        [
            (v, f"ghcr.io/cirruslabs/flutter:{b}", X86_ARM)
            for v, b in [
                ("3.24", "3.24.5"),
                ("3.27", "3.27.3"),
                ("3.29", "3.29.1"),
                ("3.32", "3.32.0"),
            ]
        ],
    ),
]

KNOWN_RUNTIME_IDS = [
    f"{key}-{version}" for key, _, versions in FAMILIES for version, _, _ in versions
]

# Runtime IDs of the SDK's ``Runtime`` enum (appwrite 16.0.0, for server 1.8.x releases after
# 1.8.0) that the 1.8.0 list above lacks; accepted as well, so every enum value is valid.
SDK_ADDED_IDS = [
    "node-23",
    "node-24",
    "node-25",
    "php-8.4",
    "ruby-3.4",
    "ruby-4.0",
    "python-3.13",
    "python-3.14",
    "python-ml-3.13",
    "deno-2.5",
    "deno-2.6",
    "dart-3.9",
    "dart-3.10",
    "dotnet-10",
    "java-25",
    "swift-6.2",
    "kotlin-2.3",
    "bun-1.2",
    "bun-1.3",
    "go-1.24",
    "go-1.25",
    "go-1.26",
    "flutter-3.35",
    "flutter-3.38",
]
KNOWN_RUNTIME_IDS += SDK_ADDED_IDS
