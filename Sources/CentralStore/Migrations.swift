/// The schema, as numbered migrations shared by both databases. A migration is never edited once
/// released: a change is a new migration at the end. Each storage records which ran.
///
/// The SQL is the common subset of SQLite and PostgreSQL (`TEXT`, `BIGINT`, `DOUBLE PRECISION`,
/// `BOOLEAN`; instants are seconds since 1970 as `DOUBLE PRECISION`), except for generated keys,
/// which each dialect spells its own way.
enum Migrations {
    enum Dialect {
        case sqlite, postgres

        var generatedKey: String {
            switch self {
            case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
            case .postgres: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            }
        }
    }

    static func all(_ dialect: Dialect) -> [(id: String, statements: [String])] {
        [
        ("001-core", [
            """
            CREATE TABLE routes (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                poles TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE profile_versions (
                route TEXT NOT NULL REFERENCES routes(id),
                version BIGINT NOT NULL,
                document TEXT NOT NULL,
                signed_bundle TEXT NOT NULL,
                author TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                comment TEXT NOT NULL,
                PRIMARY KEY (route, version)
            )
            """,
            """
            CREATE TABLE audit_log (
                id \(dialect.generatedKey),
                at DOUBLE PRECISION NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                name TEXT PRIMARY KEY,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE pole_snapshots (
                pole TEXT PRIMARY KEY,
                route TEXT NOT NULL,
                online BOOLEAN NOT NULL,
                level DOUBLE PRECISION,
                state TEXT,
                profile_version BIGINT,
                faults TEXT NOT NULL,
                firmware TEXT,
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX pole_snapshots_route ON pole_snapshots(route)",
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_name TEXT NOT NULL REFERENCES users(name),
                csrf TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL
            )
            """,
        ]),
        ("002-rollouts", [
            """
            CREATE TABLE rollouts (
                id \(dialect.generatedKey),
                route TEXT NOT NULL,
                version BIGINT NOT NULL,
                body TEXT NOT NULL,
                finished BOOLEAN NOT NULL,
                created_by TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX rollouts_route ON rollouts(route, id)",
        ]),
        ]
    }
}
